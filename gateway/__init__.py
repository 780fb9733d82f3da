"""Gegevensknooppunt: a gateway node pair for the iJw and iWmo standard messages."""

__version__ = "0.1.0"
