"""Dockyard: a container engine in Python.

``dockyard.from_env()`` and ``dockyard.Client`` are the Python API
(``dockyard/client``, docker-py's high-level client); they are loaded on
first use, so ``import dockyard.runtime...`` on a container's start path
loads nothing more.
"""

__version__ = "0.1.0"
OCI_VERSION = "1.2.0"

_LAZY = (
    "Client",
    "from_env",
    "APIError",
    "ContainerError",
    "DockerException",
    "ImageNotFound",
    "NotFound",
)


def __getattr__(name: str) -> object:
    if name in _LAZY:
        # by name, not an import statement: this module imports nothing at load time
        return getattr(__import__("dockyard.client", fromlist=[name]), name)
    raise AttributeError(f"module 'dockyard' has no attribute {name!r}")
