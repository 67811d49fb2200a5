"""The single place the PeerPrep version is defined (read by hatchling and package.json sync)."""

__version__ = "0.1.0"
