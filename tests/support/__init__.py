"""Helpers shared by Dockyard's tests: skip reasons, busybox bundles, the
runtime under test, leak detection. Fixtures live in the conftest files."""

from tests.support.bundle import Bundle
from tests.support.needs import requires
from tests.support.runtime import Runtime, run_in_container
from tests.support.wait import wait_for, wait_for_path

__all__ = ["Bundle", "Runtime", "requires", "run_in_container", "wait_for", "wait_for_path"]
