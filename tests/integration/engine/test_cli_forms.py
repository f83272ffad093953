"""The CLI's other spellings, as Docker's: each management command's aliases give what the
top-level verb gives; ``pull -a`` pulls every tag of the repository; a command that
cannot be invoked is 126 (127 when it is not found: test_run.py)."""

from __future__ import annotations

import pytest
from tests.integration.engine.conftest import Dockyard, EngineImages


@pytest.fixture
def bb(dockyard: Dockyard, engine_images: EngineImages) -> str:
    dockyard.run("pull", engine_images.busybox)
    return engine_images.busybox


def test_management_aliases_are_the_verbs(dockyard: Dockyard, bb: str) -> None:
    dockyard.run("run", "-d", "--name", "web", "-p", "127.0.0.1::80", bb, "sleep", "1000")
    dockyard.run("create", "--name", "idle", bb)
    dockyard.run("volume", "create", "vol")
    dockyard.run("network", "create", "net")
    dockyard.run("tag", bb, "copy:1")

    columns = ("--format", "{{.ID}} {{.Image}} {{.Command}} {{.State}} {{.Ports}} {{.Names}}")
    ps = dockyard.run("ps", "-a", "--no-trunc", *columns).stdout  # no clock in the columns
    assert sorted(line.split()[-1] for line in ps.splitlines()) == ["idle", "web"]
    for alias in ("ls", "list", "ps"):
        assert dockyard.run("container", alias, "-a", "--no-trunc", *columns).stdout == ps
    port = dockyard.run("port", "web").stdout
    assert port.startswith("80/tcp -> 127.0.0.1:")
    assert dockyard.run("container", "port", "web").stdout == port
    shown = ("--format", "{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}")  # no clock either
    images = dockyard.run("images", *shown).stdout
    assert "copy:1 " in images
    assert dockyard.run("image", "ls", *shown).stdout == images
    assert dockyard.run("image", "list", *shown).stdout == images
    volumes = dockyard.run("volume", "ls").stdout
    assert dockyard.run("volume", "list").stdout == volumes and "vol" in volumes
    networks = dockyard.run("network", "ls", "--format", "{{.Name}}").stdout
    assert dockyard.run("network", "list", "--format", "{{.Name}}").stdout == networks

    dockyard.run("container", "remove", "idle")
    dockyard.run("container", "rm", "-f", "web")
    assert dockyard.ids() == []
    dockyard.run("image", "remove", "copy:1")
    assert "copy" not in dockyard.run("images").stdout
    dockyard.run("volume", "remove", "vol")
    dockyard.run("network", "remove", "net")
    assert "net\n" not in dockyard.run("network", "ls", "--format", "{{.Name}}").stdout


def test_pull_all_tags_pulls_every_tag_as_docker(
    dockyard: Dockyard, engine_images: EngineImages, token: str
) -> None:
    repo = f"{engine_images.registry}/every-{token}"
    dockyard.run("pull", "-q", engine_images.busybox)
    dockyard.run("pull", "-q", engine_images.volume)
    for tag, image in (("1", engine_images.busybox), ("2", engine_images.volume)):
        dockyard.run("tag", image, f"{repo}:{tag}")
        dockyard.run("push", f"{repo}:{tag}")
        dockyard.run("rmi", f"{repo}:{tag}")
    dockyard.run("rmi", engine_images.busybox, engine_images.volume)
    assert dockyard.run("images", "-q").stdout == ""

    pulled = dockyard.run("pull", "-a", repo).stdout.splitlines()
    name = repo.rpartition("/")[2]
    # each tag in the registry's order, busybox's layer pulled once
    starts = sorted(pulled.index(f"{tag}: Pulling from {name}") for tag in ("1", "2"))
    assert starts[0] == 0 and "Using default tag: latest" not in pulled
    later = pulled[starts[1] : pulled.index("Status: Downloaded newer image for " + repo)]
    assert [line for line in later if line.endswith(": Already exists")], pulled
    assert [line[:8] for line in pulled if line.startswith("Digest:")] == ["Digest: "] * 2
    assert pulled[-2:] == [f"Status: Downloaded newer image for {repo}", repo]
    tags = dockyard.run("images", repo, "--format", "{{.Tag}}").stdout.split()
    assert sorted(tags) == ["1", "2"]

    again = dockyard.run("pull", "--all-tags", repo).stdout.splitlines()
    assert again[-2:] == [f"Status: Image is up to date for {repo}", repo]
    assert dockyard.run("pull", "-a", "-q", repo).stdout == f"{repo}\n"
    for named in (f"{repo}:1", f"{repo}@sha256:{'0' * 64}"):
        refused = dockyard.run("pull", "-a", named, check=False)
        assert refused.returncode == 1
        assert refused.stderr.strip().endswith("tag can't be used with --all-tags/-a")

    # docker-py's images.pull(all_tags=True): every image of the repository
    from tests.integration.engine.test_api import dockyard_client

    dockyard.run("rmi", f"{repo}:1", f"{repo}:2")
    with dockyard_client(dockyard) as client:
        pulled_images = client.images.pull(repo, all_tags=True)
        assert isinstance(pulled_images, list)
        assert sorted(t for i in pulled_images for t in i.tags) == [f"{repo}:1", f"{repo}:2"]


def test_a_command_that_cannot_be_invoked_is_126(dockyard: Dockyard, bb: str, runtime: str) -> None:
    for target in ("/etc", "/etc/passwd"):  # a directory, a file that is not executable
        result = dockyard.run("run", "--rm", "--runtime", runtime, bb, target, check=False)
        assert result.returncode == 126, result
        assert "permission denied" in result.stderr and "Traceback" not in result.stderr
    assert dockyard.ids() == []  # --rm: gone though it never started


def test_a_bad_pull_policy_is_refused_before_anything(dockyard: Dockyard, bb: str) -> None:
    words = 'invalid pull option: \'sometimes\': must be one of "always", "missing" or "never"'
    for verb in ("run", "create"):
        refused = dockyard.run(verb, "--pull", "sometimes", bb, "true", check=False)
        assert refused.returncode == 125, refused  # docker/cli's own check, for both
        assert words in refused.stderr and "Traceback" not in refused.stderr
    assert dockyard.ids() == []
