"""The ``casehub`` command line: one module per verb, loaded lazily by :mod:`casehub.cli.main`."""
