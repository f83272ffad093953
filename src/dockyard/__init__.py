"""Dockyard: a container engine in Python."""

__version__ = "0.1.0"
OCI_VERSION = "1.2.0"
