from __future__ import annotations

import pytest

from dockyard.errors import InvalidArgument, NotFound
from dockyard.image.run_config import process_parts, resolve_user
from dockyard.oci.image_spec import ContainerConfig, ImageConfig

PASSWD = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"
GROUP = "root:x:0:\nstaff:x:50:app,other\napp:x:1000:\nwheel:x:10:app\n"


def test_users_and_groups_are_resolved_in_the_image_files() -> None:
    assert resolve_user("", PASSWD, GROUP) == (0, 0, [])
    assert resolve_user("app", PASSWD, GROUP) == (1000, 1000, [50, 10])
    assert resolve_user("app:staff", PASSWD, GROUP) == (1000, 50, [10])
    assert resolve_user("1000", PASSWD, GROUP) == (1000, 1000, [50, 10])
    assert resolve_user("4242:7", PASSWD, GROUP) == (4242, 7, [])
    with pytest.raises(NotFound, match="nobody"):
        resolve_user("nobody", PASSWD, GROUP)
    with pytest.raises(NotFound, match="group nogroup"):
        resolve_user("app:nogroup", PASSWD, GROUP)


def test_process_parts_follow_docker_run() -> None:
    config = ImageConfig(
        created="2024-01-01T00:00:00Z",
        config=ContainerConfig(
            entrypoint=["/entry"],
            cmd=["--default"],
            env=["A=1"],
            working_dir="/srv",
            user="app",
            labels={"l": "v"},
            stop_signal="SIGQUIT",
            exposed_ports=["80/tcp"],
            volumes=["/data"],
        ),
    )
    parts = process_parts(config, PASSWD, GROUP)
    assert parts.args == ["/entry", "--default"]
    assert parts.env[0].startswith("PATH=") and "A=1" in parts.env
    assert (parts.cwd, parts.uid, parts.gid, parts.stop_signal) == ("/srv", 1000, 1000, "SIGQUIT")
    assert parts.annotations["l"] == "v"
    assert parts.annotations["org.opencontainers.image.stopSignal"] == "SIGQUIT"
    assert parts.annotations["org.opencontainers.image.exposedPorts"] == "80/tcp"
    assert parts.volumes == ["/data"]

    assert process_parts(config, PASSWD, GROUP, cmd=["x"]).args == ["/entry", "x"]
    assert process_parts(config, PASSWD, GROUP, entrypoint=["/bin/sh"]).args == ["/bin/sh"]
    assert "A=2" in process_parts(config, PASSWD, GROUP, env=["A=2"]).env
    with pytest.raises(InvalidArgument, match="no command"):
        process_parts(ImageConfig(), PASSWD, GROUP)
