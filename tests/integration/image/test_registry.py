"""Push and pull against a real Distribution registry: anonymous, basic auth, Bearer tokens."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from dockyard.errors import Unauthorized
from dockyard.image import copy
from dockyard.image.auth import Credentials
from dockyard.image.credstore import CredentialStore
from dockyard.image.http import HttpClient
from dockyard.image.layout import Bundle, blob_name, read_index
from dockyard.image.registry import Registry as RegistryClient
from tests.integration.image.builder import file_entry, tar_entries
from tests.integration.image.conftest import Dockyard, Registry, SampleImages

pytestmark = pytest.mark.integration


def layer_dirs(dockyard: Dockyard, name: str) -> list[Path]:
    out = dockyard.run("image", "inspect", "-f", "{{json .GraphDriver.Data}}", name).stdout
    data = json.loads(out)
    lowers = data["LowerDir"].split(":") if data["LowerDir"] else []
    return [Path(p) for p in [*reversed(lowers), data["UpperDir"]]]


def image_id(dockyard: Dockyard, name: str) -> str:
    return dockyard.run("image", "inspect", "-f", "{{.Id}}", name).stdout.strip()


def store_garbage(root: Path) -> list[str]:
    return sorted(os.listdir(root / "tmp"))


def test_push_then_pull_a_single_layer_image(
    loaded: Dockyard, registry: Registry, test_images: SampleImages
) -> None:
    name = f"{registry.host}/test/single:1"
    loaded.run("tag", "bb-single", name)
    pushed = loaded.run("push", name).stdout
    assert "digest: sha256:" in pushed
    loaded.run("rmi", name, "bb-single")
    assert name not in loaded.run("images").stdout

    pulled = loaded.run("pull", name).stdout

    assert "Status: Downloaded newer image" in pulled
    assert pulled.strip().endswith(name)
    assert image_id(loaded, name) == test_images.single.id
    (diff,) = layer_dirs(loaded, name)
    assert hashlib.sha256((diff / "bin/busybox").read_bytes()).hexdigest() == (
        test_images.busybox_sha256
    )
    assert (diff / "bin/sh").readlink() == Path("busybox")
    again = loaded.run("pull", name).stdout
    assert "Image is up to date" in again
    assert store_garbage(loaded.root) == []


def test_multi_layer_image_round_trip_keeps_whiteouts_and_links(
    loaded: Dockyard, registry: Registry, test_images: SampleImages
) -> None:
    name = f"{registry.host}/test/multi:v1"
    loaded.run("tag", "bb-multi", name)
    loaded.run("push", name)
    second = loaded.run("push", name).stdout
    assert "digest:" in second
    loaded.run("rmi", "-f", image_id(loaded, name))

    loaded.run("pull", name)

    _base, two, three = layer_dirs(loaded, name)
    assert (two / "opt/data/one").stat().st_ino == (two / "opt/data/two").stat().st_ino
    whiteout = (three / "etc/secret").lstat()
    assert whiteout.st_rdev == 0 and oct(whiteout.st_mode)[:4] == "0o20"  # char device 0:0
    assert os.getxattr(three / "var/cache", "trusted.overlay.opaque") == b"y"
    assert (three / "etc/motd").read_text() == "layer three\n"
    assert (three / "etc/motd").stat().st_mode & 0o777 == 0o600
    assert (three / "etc/motd").stat().st_mtime == 1_700_000_000
    assert image_id(loaded, name) == test_images.multi.id


def test_cross_repository_mount_and_existing_layers(loaded: Dockyard, registry: Registry) -> None:
    first, second = f"{registry.host}/mount/a:1", f"{registry.host}/mount/b:1"
    loaded.run("tag", "bb-multi", first)
    loaded.run("push", first)
    loaded.run("rmi", first)
    loaded.run("pull", first)  # the store now knows the blobs live in mount/a
    loaded.run("tag", first, second)

    with HttpClient(None) as client:
        api = RegistryClient(client, registry.host)
        before = api.has_blob("mount/b", _layer_digests(loaded, first)[0])
        loaded.run("push", second)

        assert not before
        for digest in _layer_digests(loaded, first):
            assert api.has_blob("mount/b", digest)


def _layer_digests(dockyard: Dockyard, name: str) -> list[str]:
    root = dockyard.root
    record_id = image_id(dockyard, name).split(":")[1]
    record = json.loads((root / "images" / f"{record_id}.json").read_text())
    manifest = json.loads((root / "blobs/sha256" / record["manifest_digest"][7:]).read_text())
    return [layer["digest"] for layer in manifest["layers"]]


def test_multi_platform_index_pushed_and_pulled_per_platform(
    dockyard: Dockyard, registry: Registry, test_images: SampleImages
) -> None:
    bundle = Bundle(test_images.layout)
    entry = next(
        e
        for e in read_index(bundle).manifests
        if e.annotations["io.containerd.image.name"] == SampleImages.PLATFORMS
    )
    raw = bundle.read(blob_name(entry.digest))
    with HttpClient(None) as client:
        api = RegistryClient(client, registry.host)
        digest = copy.push_tree(
            lambda d: bundle.open(blob_name(d)), raw, entry.media_type, api, "multi/arch", "1"
        )
    bundle.close()
    assert digest == entry.digest
    name = f"{registry.host}/multi/arch:1"

    dockyard.run("pull", "--platform", "linux/arm64", name)
    arm = dockyard.run("image", "inspect", "-f", "{{.Architecture}} {{.Variant}}", name).stdout
    dockyard.run("pull", name)
    host = dockyard.run("image", "inspect", "-f", "{{.Architecture}}", name).stdout

    assert arm.split() == ["arm64", "v8"]
    assert host.strip() == "amd64"
    assert image_id(dockyard, name) == test_images.amd64.id
    digests = dockyard.run("images", "--digests", "--format", "{{.Digest}}").stdout
    assert entry.digest in digests
    by_digest = dockyard.run("pull", f"{registry.host}/multi/arch@{entry.digest}").stdout
    assert entry.digest in by_digest
    missing = dockyard.run("pull", "--platform", "linux/s390x", name, check=False)
    assert missing.returncode == 1 and "no image for platform linux/s390x" in missing.stderr


@pytest.mark.parametrize("where", [0.5, 0.0])  # in a file's bytes; in the gzip block header
def test_a_corrupt_blob_is_refused_and_leaves_nothing(
    dockyard: Dockyard, registry: Registry, tmp_path: Path, where: float
) -> None:
    loaded = dockyard
    name = f"{registry.host}/corrupt/img-{where}:1"
    tarball = tmp_path / "rootfs.tar"
    tarball.write_bytes(tar_entries([file_entry("random", os.urandom(200_000))]))
    loaded.run("import", str(tarball), name)
    loaded.run("push", name)
    loaded.run("rmi", name)
    (digest,) = _layer_digests_from_registry(registry, f"corrupt/img-{where}", "1")
    blob = registry.blob_file(digest)
    data = bytearray(blob.read_bytes())
    at = max(int(len(data) * where), 10)  # 10: just past gzip's own header
    data[at] ^= 0xFF
    blob.write_bytes(bytes(data))
    try:
        result = loaded.run("pull", name, check=False)
    finally:
        data[at] ^= 0xFF
        blob.write_bytes(bytes(data))

    assert result.returncode == 1
    # whatever the flipped byte broke (a file, the tar, the gzip), the blob's digest is blamed
    assert "expected " + digest in result.stderr, result.stderr
    assert name not in loaded.run("images").stdout
    assert store_garbage(loaded.root) == []
    assert not (loaded.root / "blobs/sha256" / digest[7:]).exists()


def _layer_digests_from_registry(registry: Registry, path: str, tag: str) -> list[str]:
    with HttpClient(None) as client:
        manifest = json.loads(RegistryClient(client, registry.host).get_manifest(path, tag).raw)
    return [layer["digest"] for layer in manifest["layers"]]


def test_basic_auth_needs_a_login(loaded: Dockyard, auth_registry: Registry) -> None:
    name = f"{auth_registry.host}/private/img:1"
    loaded.run("tag", "bb-single", name)

    refused = loaded.run("push", name, check=False)
    bad = loaded.run(
        "login",
        "-u",
        "alice",
        "--password-stdin",
        auth_registry.host,
        input=b"wrong\n",
        check=False,
    )
    good = loaded.run(
        "login", "-u", "alice", "--password-stdin", auth_registry.host, input=b"wonderland\n"
    )
    loaded.run("push", name)
    loaded.run("rmi", name)
    loaded.run("pull", name)
    stored = json.loads((loaded.config / "dockyard" / "config.json").read_text())
    logout = loaded.run("logout", auth_registry.host).stdout
    after = loaded.run("pull", name, check=False)

    assert refused.returncode == 1 and "dockyard login" in refused.stderr
    assert bad.returncode == 1
    assert "Login Succeeded" in good.stdout
    assert auth_registry.host in stored["auths"]
    assert "Removing login credentials" in logout
    assert after.returncode == 1


def test_docker_config_json_credentials_are_read(loaded: Dockyard, auth_registry: Registry) -> None:
    docker_config = loaded.config / "docker"
    docker_config.mkdir(parents=True)
    token = "YWxpY2U6d29uZGVybGFuZA=="  # alice:wonderland
    (docker_config / "config.json").write_text(
        json.dumps({"auths": {f"https://{auth_registry.host}": {"auth": token}}})
    )
    name = f"{auth_registry.host}/private/docker-creds:1"
    loaded.run("tag", "bb-single", name)
    loaded.run("push", name)


def test_bearer_tokens_from_a_token_server(loaded: Dockyard, token_registry: Registry) -> None:
    assert token_registry.token is not None
    name = f"{token_registry.host}/team/app:1"
    loaded.run("tag", "bb-multi", name)

    anonymous_push = loaded.run("push", name, check=False)
    loaded.run("login", "-u", "bob", "--password-stdin", token_registry.host, input=b"builder\n")
    loaded.run("push", name)
    loaded.run("logout", token_registry.host)
    loaded.run("rmi", name)
    loaded.run("pull", name)  # anonymous pull: the token server grants pull to anyone

    assert anonymous_push.returncode == 1
    scopes = [s for r in token_registry.token.requests for s in r["scopes"]]  # type: ignore[attr-defined]
    assert "repository:team/app:pull,push" in scopes
    assert "repository:team/app:pull" in scopes
    assert any(r["user"] == "bob" for r in token_registry.token.requests)


def test_the_client_library_with_explicit_credentials(
    auth_registry: Registry, tmp_path: Path
) -> None:
    store = CredentialStore(tmp_path / "config.json", fallbacks=[])
    store.store(auth_registry.host, Credentials("alice", "wonderland"))
    with HttpClient(store) as client:
        api = RegistryClient(client, auth_registry.host)
        api.ping()
    anonymous = HttpClient(CredentialStore(tmp_path / "none.json", fallbacks=[]))
    with anonymous, pytest.raises(Unauthorized, match="dockyard login"):
        RegistryClient(anonymous, auth_registry.host).ping()
