from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from dockyard.image.auth import Credentials, parse_challenges
from dockyard.image.credhelpers import HelperFailed
from dockyard.image.credstore import CredentialStore
from tests.support.credential_helper import CredentialHelper


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


def test_credential_helpers_per_registry_and_for_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keychain = CredentialHelper.install(tmp_path / "bin", "keychain")
    special = CredentialHelper.install(tmp_path / "bin", "special")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    keychain.put("reg.example:5000", "kc-user", "kc-pass")
    keychain.put("https://index.docker.io/v1/", "<token>", "refresh-me")
    special.put("gcr.io", "sp-user", "sp-pass")
    config = tmp_path / "docker.json"
    config.write_text(
        json.dumps(
            {
                "auths": {"reg.example:5000": {"auth": base64.b64encode(b"file:pw").decode()}},
                "credsStore": "keychain",
                "credHelpers": {"gcr.io": "special"},
            }
        )
    )
    store = CredentialStore(tmp_path / "ours.json", [config])

    assert store.get("reg.example:5000") == Credentials("kc-user", "kc-pass")  # not the file's
    assert store.get("gcr.io") == Credentials("sp-user", "sp-pass")
    assert store.get("docker.io") == Credentials(identity_token="refresh-me")
    assert store.get("unknown.example") is None  # the helper has nothing: anonymous
    assert ("get", "unknown.example") in keychain.calls()
    assert [verb for verb, _ in special.calls()] == ["get"]

    assert store.store("new.example", Credentials("me", "secret")) is not None
    assert keychain.secrets()["new.example"] == ["me", "secret"]
    ours = json.loads((tmp_path / "ours.json").read_text())
    assert ours == {"auths": {"new.example": {}}}  # no secret in our file
    assert store.get("new.example") == Credentials("me", "secret")
    assert store.erase("new.example") and "new.example" not in keychain.secrets()
    assert not store.erase("new.example")


def test_a_helper_that_is_missing_or_fails_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    (tmp_path / "bin").mkdir()
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"credHelpers": {"gcr.io": "gcloud"}}))
    with pytest.raises(HelperFailed, match=r"docker-credential-gcloud \(named in .*c.json\)"):
        CredentialStore(config, []).get("gcr.io")
    broken = tmp_path / "bin" / "docker-credential-gcloud"
    broken.write_text("#!/bin/sh\necho 'keyring locked' >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(HelperFailed, match="docker-credential-gcloud get exited 3: keyring locked"):
        CredentialStore(config, []).get("gcr.io")
