"""features: the runtime-spec features document, true to what is implemented."""

from __future__ import annotations

from dockyard import OCI_VERSION
from dockyard.cli.runtime_args import parse
from dockyard.oci.jsonio import dumps
from dockyard.oci.runtime_spec import HOOK_NAMES, NAMESPACE_TYPES
from dockyard.runtime.seccomp_default import kernel_version

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
            "cgroup": {"v1": True, "v2": True, "systemd": False, "systemdUser": False},
            "seccomp": _seccomp_features(),
            "apparmor": {"enabled": False},
            "selinux": {"enabled": False},
            "mountExtensions": {"idmap": {"enabled": False}},
        },
        "annotations": {"org.dockyard.runtime.version": __import__("dockyard").__version__},
    }
    print(dumps(features, indent=4))
    return 0


def _seccomp_features() -> dict[str, object]:
    from dockyard.oci.seccomp import ACTIONS, ARCHES, FLAGS, OPERATORS

    try:
        from dockyard.linux import seccomp

        seccomp.load_library()
    except OSError:
        return {"enabled": False}
    # WAIT_KILLABLE_RECV came with Linux 5.19; the others are older than 4.17
    supported = [flag for flag in FLAGS if flag != "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]
    if kernel_version() >= (5, 19):
        supported.append("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")
    return {
        "enabled": True,
        "actions": list(ACTIONS),
        "operators": list(OPERATORS),
        "archs": [arch for arch in ARCHES if arch != "SCMP_ARCH_NATIVE"],
        "knownFlags": list(FLAGS),
        "supportedFlags": supported,
    }
