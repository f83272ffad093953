"""features: the runtime-spec features document, true to what is implemented."""

from __future__ import annotations

from dockyard import OCI_VERSION
from dockyard.cli.runtime_args import parse
from dockyard.oci.jsonio import dumps
from dockyard.oci.runtime_spec import HOOK_NAMES, NAMESPACE_TYPES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.runtime_main import Context


def run(ctx: Context, argv: list[str]) -> int:
    from dockyard.linux.capabilities import CAPABILITIES
    from dockyard.runtime.mountopts import FLAGS, PROPAGATION, RECURSIVE

    parse(argv, [], command="features")
    features = {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": OCI_VERSION,
        "hooks": list(HOOK_NAMES),
        "mountOptions": sorted([*FLAGS, *PROPAGATION, *RECURSIVE]),
        "linux": {
            "namespaces": sorted(NAMESPACE_TYPES),
            "capabilities": list(CAPABILITIES),
            "cgroup": {"v1": False, "v2": False, "systemd": False, "systemdUser": False},
            "seccomp": {"enabled": False},
            "apparmor": {"enabled": False},
            "selinux": {"enabled": False},
            "mountExtensions": {"idmap": {"enabled": False}},
        },
        "annotations": {"org.dockyard.runtime.version": __import__("dockyard").__version__},
    }
    print(dumps(features, indent=4))
    return 0
