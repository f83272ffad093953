from __future__ import annotations

import pytest

from dockyard.errors import InvalidArgument, NotFound
from dockyard.image.platform import matches, parse_platform, select
from dockyard.oci.image_spec import OCI_MANIFEST, Descriptor, Index, Platform


def desc(n: int, arch: str, variant: str = "", os: str = "linux") -> Descriptor:
    return Descriptor(
        OCI_MANIFEST,
        "sha256:" + str(n) * 64,
        1,
        platform=Platform(os=os, architecture=arch, variant=variant),
    )


INDEX = Index(
    "",
    [
        desc(1, "amd64"),
        desc(2, "arm", "v6"),
        desc(3, "arm", "v7"),
        desc(4, "arm64", "v8"),
        desc(5, "amd64", os="windows"),
    ],
)


@pytest.mark.parametrize(
    ("wanted", "digit"),
    [
        ("linux/amd64", "1"),
        ("linux/arm/v7", "3"),
        ("linux/arm/v6", "2"),
        ("arm64", "4"),
        ("linux/arm64/v8", "4"),
        ("windows/amd64", "5"),
        ("linux/x86_64", "1"),
    ],
)
def test_select(wanted: str, digit: str) -> None:
    assert select(INDEX, parse_platform(wanted)).digest == "sha256:" + digit * 64


def test_no_match_names_what_is_there() -> None:
    with pytest.raises(NotFound, match=r"linux/s390x.*linux/amd64"):
        select(INDEX, parse_platform("linux/s390x"))


def test_matching_rules() -> None:
    assert matches(Platform(architecture="arm64"), Platform(architecture="arm64", variant="v8"))
    assert not matches(
        Platform(architecture="arm", variant="v7"), Platform(architecture="arm", variant="v6")
    )
    with pytest.raises(InvalidArgument):
        parse_platform("a/b/c/d")
