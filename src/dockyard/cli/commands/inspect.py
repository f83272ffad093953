"""Return low-level information on containers, images or volumes."""

from __future__ import annotations

import sys

from dockyard.cli.flags import VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed
    from dockyard.errors import DockyardError

SYNOPSIS = "[OPTIONS] NAME|ID [NAME|ID...]"
FLAGS = [
    Flag("format", "f", VALUE, help="Format output using a custom template"),
    Flag("size", "s", help="Display total file sizes if the type is container"),
    Flag("type", kind=VALUE, help="Return JSON for specified type (container, image, volume)"),
]
KINDS = ("container", "image", "volume", "network")


def find(ctx: Context, name: str, kind: str, size: bool) -> dict[str, Any]:
    """The JSON of what ``name`` names, looked up as Docker does: container, image, volume,
    network."""
    from dockyard.errors import NotFound

    engine = ctx.engine()
    for each in (kind,) if kind else KINDS:
        try:
            if each == "container":
                from dockyard.engine.inspect import container_json

                return container_json(engine, engine.containers.find(name), size)
            if each == "image":
                from dockyard.engine.image_json import inspect_data

                store = engine.images.store
                return inspect_data(store, engine.images.find(name))
            if each == "network":
                from dockyard.engine.network_json import network_json

                return network_json(engine, engine.networks.find(name))
            from dockyard.engine.volume_json import volume_json

            return volume_json(engine.volumes.get(name))
        except NotFound:
            continue
    raise NotFound(f"No such {kind or 'object'}: {name}")


def show(items: list[dict[str, Any]], template: str) -> int:
    """Print the documents as ``-f`` asks; 1 if the template failed on one of them."""
    from dockyard.cli.formatter.inspect import render

    text, errors = render(items, template)
    sys.stdout.write(text)
    sys.stdout.flush()
    for error in errors:
        sys.stderr.write(f"Error: {error}\n")
    return 1 if errors else 0


def check_template(fmt: str) -> None:
    """A template that does not parse is refused before any lookup, as Docker does."""
    if fmt and fmt != "json":
        from dockyard.cli.formatter.format import parse

        parse(fmt)


def exit_code_for(exc: DockyardError) -> int:
    """A template that does not parse: 64, as Docker's inspect; other errors 1."""
    from dockyard.cli.formatter.inspect import exit_code_for as status

    return status(exc)


def inspect_all(ctx: Context, p: Parsed, kind: str) -> int:
    from dockyard.errors import DockyardError, InvalidArgument

    if kind and kind not in KINDS:
        raise InvalidArgument(f'"{kind}" is not a valid value for --type')
    if not p.args:
        raise InvalidArgument('"inspect" requires at least 1 argument')
    check_template(str(p.format))
    found, status = [], 0
    for name in p.args:
        try:
            found.append(find(ctx, name, kind, bool(getattr(p, "size", False))))
        except DockyardError as exc:
            sys.stderr.write(f"Error: {exc}\n")
            status = 1
    return show(found, str(p.format)) or status


def run(p: Parsed, ctx: Context) -> int:
    return inspect_all(ctx, p, str(p.type))
