"""Credentials as Docker users keep them: credential helpers, credsStore, identity tokens.

The helpers are real programs (tests/support/credential_helper.py) on a PATH
of the test's own; the registries are real (conftest.py), one with Basic
auth and one with a token server that also speaks OAuth2.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from tests.integration.image.conftest import Dockyard, Registry
from tests.support.credential_helper import CredentialHelper

pytestmark = pytest.mark.integration


def with_helpers(dockyard: Dockyard, tmp_path: Path, *names: str) -> list[CredentialHelper]:
    helpers = [CredentialHelper.install(tmp_path / "helpers", name) for name in names]
    dockyard.env["PATH"] = f"{tmp_path / 'helpers'}:{os.environ['PATH']}"
    return helpers


def write_config(path: Path, doc: dict[str, object]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps(doc))


def plain(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def push_as_bob(dockyard: Dockyard, registry: Registry, name: str) -> None:
    """Push ``bb-single`` as ``name``, then forget bob and the local image."""
    write_config(dockyard.config / "dockyard", {"auths": {registry.host: plain("bob", "builder")}})
    dockyard.run("tag", "bb-single", name)
    dockyard.run("push", name)
    dockyard.run("rmi", name)
    (dockyard.config / "dockyard" / "config.json").unlink()


def test_a_helper_that_knows_nothing_lets_an_anonymous_pull_through(
    loaded: Dockyard, token_registry: Registry, tmp_path: Path
) -> None:
    name = f"{token_registry.host}/open/img:1"
    push_as_bob(loaded, token_registry, name)
    (nothing, store) = with_helpers(loaded, tmp_path, "nothing", "store")
    write_config(
        loaded.config / "docker",
        {"credsStore": "store", "credHelpers": {token_registry.host: "nothing"}},
    )

    loaded.run("pull", name)

    assert ("get", token_registry.host) in nothing.calls()
    assert store.calls() == []  # credHelpers wins over credsStore
    assert name in loaded.run("images", "--format", "{{.Repository}}:{{.Tag}}").stdout


@pytest.mark.parametrize("where", ["credsStore", "credHelpers"])
def test_credentials_kept_by_a_helper_are_used(
    loaded: Dockyard, auth_registry: Registry, tmp_path: Path, where: str
) -> None:
    (vault,) = with_helpers(loaded, tmp_path, "vault")
    vault.put(auth_registry.host, "alice", "wonderland")
    config = {"credsStore": "vault"} if where == "credsStore" else {}
    config["credHelpers"] = {"elsewhere.example": "missing"}
    if where == "credHelpers":
        config["credHelpers"] = {auth_registry.host: "vault"}
    write_config(loaded.config / "docker", config)
    name = f"{auth_registry.host}/private/helper-{where.lower()}:1"
    loaded.run("tag", "bb-single", name)

    loaded.run("push", name)

    assert ("get", auth_registry.host) in vault.calls()


def test_login_and_logout_store_and_erase_through_the_creds_store(
    loaded: Dockyard, auth_registry: Registry, tmp_path: Path
) -> None:
    (vault,) = with_helpers(loaded, tmp_path, "vault")
    write_config(loaded.config / "dockyard", {"credsStore": "vault"})
    name = f"{auth_registry.host}/private/login-helper:1"
    loaded.run("tag", "bb-single", name)

    login = loaded.run(
        "login", "-u", "alice", "--password-stdin", auth_registry.host, input=b"wonderland\n"
    )
    stored = (loaded.config / "dockyard" / "config.json").read_text()
    loaded.run("push", name)
    logout = loaded.run("logout", auth_registry.host)
    after = loaded.run("push", name, check=False)

    assert "Login Succeeded" in login.stdout and "unencrypted" not in login.stderr
    secret = {"ServerURL": auth_registry.host, "Username": "alice", "Secret": "wonderland"}
    assert [json.loads(data) for verb, data in vault.calls() if verb == "store"] == [secret]
    assert "wonderland" not in stored
    assert json.loads(stored)["auths"] == {auth_registry.host: {}}
    assert ("erase", auth_registry.host) in vault.calls()
    assert "Removing login credentials" in logout.stdout
    assert vault.secrets() == {}
    assert after.returncode == 1 and "dockyard login" in after.stderr


@pytest.mark.parametrize("kept_by", ["config", "helper"])
def test_an_identity_token_is_exchanged_with_the_oauth2_refresh_flow(
    loaded: Dockyard, token_registry: Registry, tmp_path: Path, kept_by: str
) -> None:
    server = token_registry.token
    assert server is not None
    server.refresh_tokens["rt-known"] = "bob"
    if kept_by == "config":
        write_config(
            loaded.config / "docker",
            {"auths": {token_registry.host: {"identitytoken": "rt-known"}}},
        )
    else:
        (vault,) = with_helpers(loaded, tmp_path, "vault")
        vault.put(token_registry.host, "<token>", "rt-known")
        write_config(loaded.config / "docker", {"credsStore": "vault"})
    name = f"{token_registry.host}/team/identity-{kept_by}:1"
    loaded.run("tag", "bb-single", name)
    before = len(server.requests)

    loaded.run("push", name)

    asked = server.requests[before:]
    assert asked and all(r["method"] == "POST" for r in asked)
    assert all(r["grant"] == "refresh_token" and r["user"] == "bob" for r in asked)
    assert any(f"repository:team/identity-{kept_by}:pull,push" in r["scopes"] for r in asked)


def test_login_keeps_the_identity_token_a_token_server_gives_instead_of_the_password(
    loaded: Dockyard, token_registry: Registry
) -> None:
    server = token_registry.token
    assert server is not None
    loaded.run("login", "-u", "bob", "--password-stdin", token_registry.host, input=b"builder\n")
    stored = json.loads((loaded.config / "dockyard" / "config.json").read_text())
    name = f"{token_registry.host}/team/after-login:1"
    loaded.run("tag", "bb-single", name)
    before = len(server.requests)

    loaded.run("push", name)

    entry = stored["auths"][token_registry.host]
    assert entry["identitytoken"] in server.refresh_tokens
    assert base64.b64decode(entry["auth"]) == b"bob:"  # the password is not kept
    assert all(r["method"] == "POST" for r in server.requests[before:])
