from __future__ import annotations

import json

import pytest

from dockyard.oci.image_spec import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    BadDocument,
    ImageConfig,
    Index,
    Manifest,
    parse_manifest,
)

D1, D2 = "sha256:" + "1" * 64, "sha256:" + "2" * 64


def manifest(media_type: str = DOCKER_MANIFEST, **extra: object) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": D1,
                "size": 10,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "digest": D2,
                    "size": 20,
                    "urls": ["http://x"],
                }
            ],
            **extra,
        }
    ).encode()


def test_docker_schema2_and_oci_manifests() -> None:
    docker = parse_manifest(manifest())
    oci = parse_manifest(manifest(OCI_MANIFEST, annotations={"a": "b"}))
    assert isinstance(docker, Manifest) and docker.media_type == DOCKER_MANIFEST
    assert docker.layers[0].size == 20 and docker.layers[0].urls == ["http://x"]
    assert isinstance(oci, Manifest) and oci.annotations == {"a": "b"}


def test_the_media_type_may_come_from_the_content_type() -> None:
    raw = json.loads(manifest())
    del raw["mediaType"]
    parsed = parse_manifest(json.dumps(raw).encode(), OCI_MANIFEST + "; charset=utf-8")
    assert parsed.media_type == OCI_MANIFEST


def test_indexes_and_manifest_lists_with_platforms() -> None:
    raw = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST_LIST,
            "manifests": [
                {
                    "mediaType": DOCKER_MANIFEST,
                    "digest": D1,
                    "size": 5,
                    "platform": {"os": "linux", "architecture": "arm", "variant": "v7"},
                }
            ],
        }
    ).encode()
    index = parse_manifest(raw)
    assert isinstance(index, Index)
    platform = index.manifests[0].platform
    assert platform is not None and str(platform) == "linux/arm/v7"
    assert (
        parse_manifest(json.dumps({"schemaVersion": 2, "manifests": []}).encode()).media_type
        == OCI_INDEX
    )


def test_unknown_fields_survive_a_round_trip() -> None:
    parsed = parse_manifest(manifest(OCI_MANIFEST, subject={"x": 1}))
    assert isinstance(parsed, Manifest)
    assert parsed.to_json()["subject"] == {"x": 1}


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"not json", "not JSON"),
        (b"[]", "JSON object"),
        (json.dumps({"schemaVersion": 1}).encode(), "schemaVersion"),
        (manifest().replace(D2.encode(), b"sha256:zz"), "layers\\[0\\].digest"),
        (manifest().replace(b'"size": 20', b'"size": -1'), "layers\\[0\\].size"),
        (manifest(media_type="application/x-unknown"), "not a manifest type"),
    ],
)
def test_bad_manifests_name_the_field(raw: bytes, problem: str) -> None:
    with pytest.raises(BadDocument, match=problem):
        parse_manifest(raw)


def test_image_config() -> None:
    raw = json.dumps(
        {
            "architecture": "arm64",
            "os": "linux",
            "variant": "v8",
            "created": "2024-01-01T00:00:00Z",
            "config": {
                "Cmd": ["sh"],
                "Env": ["A=1"],
                "ExposedPorts": {"80/tcp": {}},
                "Volumes": {"/data": {}},
                "User": "app",
                "StopSignal": "SIGQUIT",
                "Healthcheck": {"Test": ["NONE"]},
            },
            "rootfs": {"type": "layers", "diff_ids": [D1]},
            "history": [{"created_by": "x", "empty_layer": True}],
        }
    ).encode()
    config = ImageConfig.parse(raw)
    assert config.config.exposed_ports == ["80/tcp"] and config.config.volumes == ["/data"]
    assert config.config.entrypoint is None and config.config.cmd == ["sh"]
    assert config.config.extra == {"Healthcheck": {"Test": ["NONE"]}}
    assert str(config.platform) == "linux/arm64/v8"
    assert ImageConfig.parse(config.to_bytes()) == config
