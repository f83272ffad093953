"""``pause`` and ``resume``: freeze and thaw a container's cgroup."""

from __future__ import annotations

from dockyard.runtime.state import ContainerState, Lock


def pause(root: str, container_id: str) -> None:
    with Lock(root, container_id):
        state = ContainerState.load(root, container_id)
        state.require("pause")
        state.cgroup().freeze()


def resume(root: str, container_id: str) -> None:
    with Lock(root, container_id):
        state = ContainerState.load(root, container_id)
        state.require("resume")
        state.cgroup().thaw()
