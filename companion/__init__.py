"""companion: an open, hackable, testable in-car voice assistant."""

__version__ = "0.1.0"
