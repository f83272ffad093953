"""The Python API's errors, shaped like docker-py's (``docker.errors``).

Each is also a `DockyardError` of the matching kind, so ``except
dockyard.errors.NotFound`` catches `NotFound` too. ``status_code`` is the
HTTP status Docker's Engine API would have answered with.
"""

from __future__ import annotations

from dockyard import errors


class DockerException(errors.DockyardError):
    """Base of the API's errors (docker-py's name)."""


class APIError(DockerException):
    """The engine refused or failed: ``status_code`` and ``explanation`` say how."""

    status_code = 500

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.explanation = message
        if status_code is not None:
            self.status_code = status_code

    def is_client_error(self) -> bool:
        return 400 <= self.status_code < 500

    def is_server_error(self) -> bool:
        return self.status_code >= 500


class NotFound(APIError, errors.NotFound):
    status_code = 404


class ImageNotFound(NotFound):
    pass


class Conflict(APIError, errors.Conflict):
    status_code = 409


class InvalidArgument(APIError, errors.InvalidArgument):
    status_code = 400


class ContainerError(DockerException):
    """``containers.run`` of a container that exited non-zero; its stderr is kept."""

    def __init__(
        self, container: object, exit_status: int, command: object, image: str, stderr: bytes
    ) -> None:
        self.container = container
        self.exit_status = exit_status
        self.command = command
        self.image = image
        self.stderr = stderr
        text = stderr.decode(errors="replace").strip()
        super().__init__(
            f"Command '{command}' in image '{image}' returned non-zero exit status "
            f"{exit_status}" + (f": {text}" if text else "")
        )


def translate(exc: errors.DockyardError, image: bool = False) -> APIError:
    """The API error for an engine error, the cause kept as ``__cause__``."""
    if isinstance(exc, APIError):
        return exc
    message = str(exc)
    if isinstance(exc, errors.NotFound):
        return ImageNotFound(message) if image else NotFound(message)
    if isinstance(exc, errors.Conflict):
        return Conflict(message)
    if isinstance(exc, errors.InvalidArgument):
        return InvalidArgument(message)
    if isinstance(exc, errors.Unauthorized):
        return APIError(message, 401)
    return APIError(message)
