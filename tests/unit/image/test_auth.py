from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from dockyard.errors import Unsupported
from dockyard.image.auth import Credentials, CredentialStore, parse_challenges


def test_bearer_challenge() -> None:
    (c,) = parse_challenges(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:samalba/my-app:pull,push"'
    )
    assert c.scheme == "bearer"
    assert c.params == {
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scope": "repository:samalba/my-app:pull,push",
    }


def test_several_challenges_quotes_and_tokens() -> None:
    challenges = parse_challenges(
        'Basic realm="a \\"quoted\\" realm", Bearer realm=http://x/t, error="insufficient_scope"'
    )
    assert [c.scheme for c in challenges] == ["basic", "bearer"]
    assert challenges[0].params["realm"] == 'a "quoted" realm'
    assert challenges[1].params == {"realm": "http://x/t", "error": "insufficient_scope"}
    assert parse_challenges("") == []


def test_credentials_in_docker_format(tmp_path: Path) -> None:
    ours, docker = tmp_path / "ours.json", tmp_path / "docker.json"
    docker.write_text(
        json.dumps(
            {
                "auths": {
                    "https://index.docker.io/v1/": {"auth": base64.b64encode(b"hub:pw").decode()},
                    "http://reg.example:5000/v2/": {"username": "u", "password": "p"},
                }
            }
        )
    )
    store = CredentialStore(ours, [docker])
    assert store.get("docker.io") == Credentials("hub", "pw")
    assert store.get("reg.example:5000") == Credentials("u", "p")
    assert store.get("other") is None

    store.store("reg.example:5000", Credentials("me", "secret:with:colons"))
    saved = json.loads(ours.read_text())
    assert base64.b64decode(saved["auths"]["reg.example:5000"]["auth"]) == b"me:secret:with:colons"
    assert store.get("reg.example:5000") == Credentials("me", "secret:with:colons")
    assert ours.stat().st_mode & 0o777 == 0o600
    assert store.erase("reg.example:5000") and not store.erase("reg.example:5000")
    assert store.get("reg.example:5000") == Credentials("u", "p")  # Docker's, still


def test_credential_helpers_are_reported(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"credHelpers": {"gcr.io": "gcloud"}}))
    with pytest.raises(Unsupported, match="helper"):
        CredentialStore(config, []).get("gcr.io")
