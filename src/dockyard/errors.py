"""The whole Dockyard error hierarchy. A leaf module: it imports nothing.

    DockyardError
     ├── InvalidArgument     bad input: a malformed spec, a wrong flag, an unknown name
     │    └── InvalidSpec    config.json breaks the runtime spec; names the field
     ├── NotFound            no such container, image, file
     ├── Conflict            the object is in the wrong state for the verb, or exists already
     ├── Unauthorized        a registry or a user refused the credentials
     ├── Unsupported         valid, but not implemented or not possible on this host
     └── HostError           the kernel or a helper program failed us
          ├── HookFailed     an OCI hook exited non-zero or timed out
          ├── DamagedState   a container's state file cannot be read back
          └── NoSpace        a filesystem is full (ENOSPC, EDQUOT): retrying cannot help

Callers wrap the cause with ``raise ... from exc``; messages name the object
and, where there is one, the way out.
"""


class DockyardError(Exception):
    """Base of every error Dockyard raises on purpose."""

    #: exit status the CLIs use for this kind of error
    exit_code = 1

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled as what it is, whatever its __init__ takes: worker processes
        # send errors to their parent (image/workers.py).
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(
    cls: type[DockyardError], args: tuple[object, ...], state: dict[str, object]
) -> DockyardError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class InvalidArgument(DockyardError):
    pass


class InvalidSpec(InvalidArgument):
    """config.json is not a valid runtime spec; ``field`` is its JSON path."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"config.json: {field}: {problem}")
        self.field = field
        self.problem = problem


class NotFound(DockyardError):
    pass


class Conflict(DockyardError):
    pass


class Unauthorized(DockyardError):
    pass


class Unsupported(DockyardError):
    pass


class HostError(DockyardError):
    pass


class HookFailed(HostError):
    pass


class DamagedState(HostError):
    pass


class NoSpace(HostError):
    pass
