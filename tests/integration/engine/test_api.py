"""The Python API (docker-py's shape), in-process, against the same store as the CLI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.integration.engine.conftest import Dockyard, EngineImages

import dockyard as api
from dockyard.client import Client, ContainerError, ImageNotFound, NotFound
from dockyard.client.containers import Container


@pytest.fixture
def client(dockyard: Dockyard) -> Iterator[Client]:
    with dockyard_client(dockyard) as c:
        yield c


def dockyard_client(dy: Dockyard) -> Client:
    env = dy.env
    c = api.Client(
        root=env["DOCKYARD_ROOT"],
        run_root=env["DOCKYARD_RUN_ROOT"],
        insecure_registries=[env["DOCKYARD_INSECURE_REGISTRIES"]],
    )
    c.engine.cgroup_parent = env["DOCKYARD_CGROUP_PARENT"]
    c.engine.default_runtime = env["DOCKYARD_DEFAULT_RUNTIME"]
    # the test's own default bridge and subnets, never Docker's 172.17.0.0/16 on the host
    c.engine.networks.bridge_name = env["DOCKYARD_BRIDGE"]
    c.engine.networks.bip = env["DOCKYARD_BIP"]
    c.engine.networks.pools_text = env["DOCKYARD_ADDRESS_POOLS"]
    return c


def test_run_returns_the_output(client: Client, engine_images: EngineImages) -> None:
    assert client.containers.run(engine_images.busybox, ["echo", "hi"], remove=True) == b"hi\n"
    # docker-py's stream=True: the output's chunks, once the container has ended
    chunks = client.containers.run(
        engine_images.busybox, ["sh", "-c", "echo a; sleep 0.2; echo b"], remove=True, stream=True
    )
    assert b"".join(chunks) == b"a\nb\n"  # type: ignore[arg-type]
    both = client.containers.run(
        engine_images.busybox, "sh -c 'echo a; echo b >&2'", remove=True, stderr=True
    )
    assert sorted(both.splitlines()) == [b"a", b"b"]  # type: ignore[union-attr]


def test_a_failing_container_raises_container_error_with_its_stderr(
    client: Client, engine_images: EngineImages
) -> None:
    with pytest.raises(ContainerError) as caught:
        client.containers.run(
            engine_images.busybox, ["sh", "-c", "echo oops >&2; exit 4"], remove=True
        )

    assert caught.value.exit_status == 4
    assert caught.value.stderr == b"oops\n"
    assert client.containers.list(all=True) == []


def test_a_detached_container_is_a_model_object(
    client: Client, dockyard: Dockyard, engine_images: EngineImages
) -> None:
    box = client.containers.run(
        engine_images.busybox,
        ["sh", "-c", "echo started; exec sleep 1000"],
        detach=True,
        name="apibox",
        labels={"team": "api"},
    )
    assert isinstance(box, Container)

    assert box.name == "apibox" and box.status == "running" and box.labels == {"team": "api"}
    assert client.containers.get("apibox") == box
    assert [c.name for c in client.containers.list(filters={"label": "team=api"})] == ["apibox"]
    assert "apibox" in dockyard.run("ps").stdout  # one engine, one store: the CLI sees it
    box.stop(timeout=1)
    assert box.wait() == {"StatusCode": 137, "Error": None}
    box.reload()
    assert box.status == "exited" and box.attrs["State"]["ExitCode"] == 137
    assert box.logs() == b"started\n"
    box.remove()
    with pytest.raises(NotFound):
        client.containers.get("apibox")


def test_images_and_volumes(client: Client, engine_images: EngineImages) -> None:
    image = client.images.pull(engine_images.busybox, tag="latest")
    assert f"{engine_images.busybox}:latest" in image.tags
    assert client.images.get(engine_images.busybox).id == image.id
    assert image in client.images.list()
    # docker-py's Image.tag: latest when no tag is given
    assert image.tag("api/tagged", "v1") is True and image.tag("api/tagged") is True
    assert client.images.get("api/tagged:v1").id == client.images.get("api/tagged").id == image.id
    client.images.remove("api/tagged:v1")
    newest = image.history()[0]
    assert newest["Id"] == image.id and isinstance(newest["Created"], int)
    assert set(newest) == {"Id", "Created", "CreatedBy", "Tags", "Size", "Comment"}
    client.images.remove("api/tagged")

    vol = client.volumes.create("apivol", labels={"k": "v"})
    assert client.volumes.get("apivol").attrs["Labels"] == {"k": "v"}
    out = client.containers.run(
        engine_images.busybox,
        ["sh", "-c", "echo kept > /v/f; cat /v/f"],
        volumes={"apivol": {"bind": "/v", "mode": "rw"}},
        remove=True,
    )
    assert out == b"kept\n"
    assert [v.name for v in client.volumes.list()] == ["apivol"]
    vol.remove()
    assert client.volumes.list() == []
    with pytest.raises(ImageNotFound):
        client.images.get(f"{engine_images.registry}/nothing:here")


def test_create_does_not_pull_but_run_does(client: Client, engine_images: EngineImages) -> None:
    with pytest.raises(ImageNotFound):
        client.containers.create(engine_images.busybox, "true")

    assert client.containers.run(engine_images.busybox, "true", remove=True) == b""
    created = client.containers.create(engine_images.busybox, "true")
    assert created.status == "created"
    created.remove()


def test_unknown_arguments_are_type_errors(client: Client, engine_images: EngineImages) -> None:
    with pytest.raises(TypeError, match="no_such_option"):
        client.containers.run(engine_images.busybox, "true", no_such_option=1)


def test_from_env_reads_the_same_variables_as_the_cli(
    dockyard: Dockyard, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("DOCKYARD_ROOT", "DOCKYARD_RUN_ROOT"):
        monkeypatch.setenv(key, dockyard.env[key])

    with api.from_env() as client:
        assert client.engine.paths.root == dockyard.env["DOCKYARD_ROOT"]
        assert client.containers.list(all=True) == []


def test_a_quick_programs_output_reaches_the_caller_every_time(
    client: Client, engine_images: EngineImages
) -> None:
    """The monitor once skipped a client still in its listen queue when the init
    had ended before its loop began: about one quick run in ten came back empty."""
    client.images.pull(engine_images.busybox, tag="latest")

    outputs = [
        client.containers.run(engine_images.busybox, ["echo", "hi"], remove=True) for _ in range(30)
    ]

    assert outputs == [b"hi\n"] * 30


def test_a_log_stream_follows_line_by_line(client: Client, engine_images: EngineImages) -> None:
    """docker-py's logs(stream=True): a generator that follows (follow defaults to stream),
    each line given as the container writes it, ending when the container stops."""
    box = client.containers.run(
        engine_images.busybox,
        ["sh", "-c", "echo one; read _ < /dev/stdin; echo two"],
        detach=True,
        stdin_open=True,
    )
    lines = box.logs(stream=True)
    assert next(lines) == b"one\n"  # given while the container still waits
    box.reload()
    assert box.status == "running"
    box.kill()
    assert list(lines) == []
    assert box.logs(stream=True, follow=False).__next__() == b"one\n"
    box.remove()
