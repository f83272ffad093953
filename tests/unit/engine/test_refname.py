"""The quick name normaliser agrees with the reference parser wherever it answers."""

from __future__ import annotations

import pytest

from dockyard.engine.refname import quick_full_name
from dockyard.image import reference

NAMES = [
    "busybox",
    "busybox:1.36",
    "library/busybox",
    "me/app:v2",
    "localhost/app",
    "localhost:5000/app:1",
    "127.0.0.1:5000/busybox",
    "registry.example.org/team/app:rc-1",
    "index.docker.io/library/busybox:latest",
    "docker.io/busybox",
    "a.b/c/d/e:f",
    "host:5000",
]


@pytest.mark.parametrize("name", NAMES)
def test_it_matches_the_reference_parser(name: str) -> None:
    assert quick_full_name(name) == str(reference.parse(name))


@pytest.mark.parametrize(
    "name",
    ["", "Busybox", "busybox@sha256:" + "a" * 64, "busybox:", "a b", "x/", "x//y", "-x", "x_"],
)
def test_what_it_does_not_know_it_leaves_to_the_parser(name: str) -> None:
    assert quick_full_name(name) is None
