"""Run the casehub CLI with ``python -m casehub``."""

from casehub.cli.main import main

if __name__ == "__main__":
    main()
