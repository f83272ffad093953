"""Container ids and names: how they are made and which are valid.

Ids are 64 lowercase hex digits from the kernel's random source, as
Docker's; one whose 12-digit short form is all decimal digits is drawn
again (a short id must never read as a number). Names follow Docker's rule
``[a-zA-Z0-9][a-zA-Z0-9_.-]+`` (a leading ``/`` is accepted and dropped);
containers without one get "adjective_noun", from our own word lists.
"""

from __future__ import annotations

import posix

from dockyard.errors import InvalidArgument

HEX = frozenset("0123456789abcdef")
_NAME_FIRST = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_NAME_REST = _NAME_FIRST | frozenset("_.-")

ADJECTIVES = [
    "able",
    "brave",
    "brisk",
    "busy",
    "calm",
    "clever",
    "cosy",
    "crisp",
    "daring",
    "deft",
    "eager",
    "early",
    "fair",
    "fast",
    "fearless",
    "fond",
    "gentle",
    "glad",
    "golden",
    "happy",
    "hardy",
    "honest",
    "humble",
    "jolly",
    "keen",
    "kind",
    "lively",
    "loyal",
    "lucky",
    "merry",
    "mighty",
    "modest",
    "nimble",
    "noble",
    "patient",
    "plucky",
    "polite",
    "proud",
    "quick",
    "quiet",
    "rapid",
    "ready",
    "robust",
    "salty",
    "serene",
    "sharp",
    "shiny",
    "silent",
    "snug",
    "solid",
    "spry",
    "steady",
    "stout",
    "sturdy",
    "sunny",
    "swift",
    "tidy",
    "trusty",
    "upbeat",
    "valiant",
    "vivid",
    "warm",
    "wise",
    "witty",
    "zealous",
]
NOUNS = [
    "anchor",
    "barge",
    "beacon",
    "bollard",
    "bosun",
    "bow",
    "buoy",
    "cabin",
    "capstan",
    "cargo",
    "compass",
    "crane",
    "davit",
    "deck",
    "dinghy",
    "dory",
    "dredge",
    "ferry",
    "galley",
    "gangway",
    "harbor",
    "hawser",
    "helm",
    "hull",
    "jetty",
    "keel",
    "lantern",
    "lighthouse",
    "mast",
    "mooring",
    "oar",
    "pier",
    "pilot",
    "pontoon",
    "porthole",
    "quay",
    "rigging",
    "rudder",
    "sail",
    "schooner",
    "sextant",
    "skiff",
    "slipway",
    "sloop",
    "spar",
    "stern",
    "tender",
    "tiller",
    "trawler",
    "tug",
    "wharf",
    "winch",
    "yardarm",
]


def new_id() -> str:
    while True:
        candidate = posix.urandom(32).hex()
        if not candidate[:12].isdigit():
            return candidate


def random_name(taken: set[str] | None = None) -> str:
    """adjective_noun; with a digit appended after a few tries if ``taken`` holds them."""
    for attempt in range(20):
        a, b, c = posix.urandom(3)
        name = f"{ADJECTIVES[(a << 8 | b) % len(ADJECTIVES)]}_{NOUNS[c % len(NOUNS)]}"
        if attempt >= 5:
            name += str(posix.urandom(1)[0] % 10)
        if not taken or name not in taken:
            return name
    return f"container_{new_id()[:12]}"


def check_name(name: str) -> str:
    """A valid container name, its leading ``/`` dropped, or InvalidArgument."""
    bare = name[1:] if name.startswith("/") else name
    if len(bare) < 2 or bare[0] not in _NAME_FIRST or not all(c in _NAME_REST for c in bare):
        raise InvalidArgument(
            f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )
    return bare


def looks_like_id_prefix(text: str) -> bool:
    return 0 < len(text) <= 64 and all(c in HEX for c in text)


def check_volume_name(name: str) -> str:
    """Volume names follow the container rule but may be one character long."""
    if not name or name[0] not in _NAME_FIRST or not all(c in _NAME_REST for c in name):
        raise InvalidArgument(
            f'"{name}" includes invalid characters for a local volume name, '
            'only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
            "directory, use absolute path"
        )
    return name
