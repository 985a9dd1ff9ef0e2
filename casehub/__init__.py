"""casehub: the event backbone between Thailand's social-assistance agencies."""

__version__ = "0.1.0"
