"""A template's errors, worded as Go words them ("template: :1:2: executing ...")."""

from __future__ import annotations

from dockyard.errors import InvalidArgument


class TemplateError(InvalidArgument):
    """A template that cannot be parsed or executed: bad input from the user."""


class ParseError(TemplateError):
    pass


class ExecError(TemplateError):
    """Execution stopped; ``output`` is what had been written before it did (Go writes
    partial output too, and Docker's table header is printed up to the error)."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


class FuncError(Exception):
    """Raised by a template function: the executor reports "error calling NAME: <text>"."""
