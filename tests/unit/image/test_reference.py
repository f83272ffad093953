from __future__ import annotations

import pytest

from dockyard.image.reference import BadReference, parse

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "full", "familiar"),
    [
        ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
        ("user/app", "docker.io/user/app:latest", "user/app:latest"),
        ("index.docker.io/library/nginx", "docker.io/library/nginx:latest", "nginx:latest"),
        ("localhost:5000/app:1", "localhost:5000/app:1", "localhost:5000/app:1"),
        ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
        ("quay.io/org/sub/app:v2", "quay.io/org/sub/app:v2", "quay.io/org/sub/app:v2"),
        (f"busybox@{DIGEST}", f"docker.io/library/busybox@{DIGEST}", f"busybox@{DIGEST}"),
        (f"a/b:t@{DIGEST}", f"docker.io/a/b:t@{DIGEST}", f"a/b:t@{DIGEST}"),
        ("127.0.0.1:5000/x", "127.0.0.1:5000/x:latest", "127.0.0.1:5000/x:latest"),
        ("[::1]:5000/x:y", "[::1]:5000/x:y", "[::1]:5000/x:y"),
    ],
)
def test_references_are_normalised_as_docker_does(text: str, full: str, familiar: str) -> None:
    ref = parse(text)
    assert str(ref) == full
    assert ref.familiar == familiar


def test_parts() -> None:
    ref = parse("localhost:5000/team/app:1")
    assert (ref.domain, ref.path, ref.tag, ref.reference) == (
        "localhost:5000",
        "team/app",
        "1",
        "1",
    )
    assert parse("busybox").api_host == "registry-1.docker.io"
    assert parse(f"x@{DIGEST}").reference == DIGEST


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("Busybox", "lowercase"),
        ("busybox:", "tag"),
        ("busybox@sha256:abc", "digest"),
        ("a" * 64, "64-byte"),
        ("bad//name", "component"),
        ("-x", "component"),
        ("x:" + "t" * 200, "tag"),
    ],
)
def test_bad_references_are_refused(text: str, problem: str) -> None:
    with pytest.raises(BadReference, match=problem):
        parse(text)
