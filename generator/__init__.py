"""phaseup: scaffold a web service at its growth phase and upgrade it in place."""

__version__ = "0.3.0"
