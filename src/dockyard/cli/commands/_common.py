"""Shared by the image verbs: the store, registry clients, names and times."""

from __future__ import annotations

import datetime
import sys

from dockyard.cli.docker_main import Context
from dockyard.errors import NotFound
from dockyard.image import reference
from dockyard.image.credstore import CredentialStore
from dockyard.image.http import HttpClient
from dockyard.image.options import ClientOptions
from dockyard.image.registry import Registry
from dockyard.storage.gc import Collected
from dockyard.storage.images import ImageRecord
from dockyard.storage.local import LocalStore


def open_store(ctx: Context) -> LocalStore:
    return LocalStore(ctx.root)


def registry_for(ctx: Context, host: str, client: HttpClient | None = None) -> Registry:
    client = client or HttpClient(
        CredentialStore(), insecure=ctx.insecure, options=ClientOptions.from_env()
    )
    return Registry(client, host)


def find_image(store: LocalStore, text: str) -> ImageRecord:
    """An image by name (normalised as Docker does), repo digest or (short) ID."""
    full: str | None = None
    try:
        full = str(reference.parse(text))
    except Exception:
        full = None
    try:
        return store.images.resolve(text, full)
    except NotFound:
        raise NotFound(f"No such image: {text}") from None


def removal_report(collected: Collected) -> list[str]:
    """What a collection removed, and what waits: Docker's "Deleted:" lines, then notes."""
    lines = [f"Deleted: {layer}" for layer in collected.layers]
    waiting = len(collected.deferred_layers) + len(collected.deferred_blobs)
    if waiting:
        lines.append(
            f"Pending: {len(collected.deferred_layers)} layers and "
            f"{len(collected.deferred_blobs)} blobs are in use by a running operation; "
            "they are removed when it ends"
        )
    if collected.blocked:
        lines.append(
            "Pending: nothing was collected: damaged records ("
            + ", ".join(collected.blocked)
            + "); run 'dockyard system check'"
        )
    return lines


def parse_time(text: str) -> datetime.datetime | None:
    if not text:
        return None
    text = text.replace("Z", "+00:00")
    if "." in text:  # Go writes nanoseconds; Python takes microseconds
        head, _, tail = text.partition(".")
        digits = "".join(c for c in tail if c.isdigit())
        zone = tail[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def split_name(full: str) -> tuple[str, str]:
    """docker.io/library/busybox:latest → (busybox, latest)."""
    ref = reference.parse(full)
    return ref.familiar_repository, ref.tag or "<none>"


def err(message: str) -> None:
    sys.stderr.write(message + "\n")
