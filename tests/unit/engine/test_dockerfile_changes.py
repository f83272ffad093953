"""``--change``: Dockerfile instructions on a config, as moby's BuildFromConfig applies them."""

from __future__ import annotations

import pytest

from dockyard.engine.dockerfile_changes import apply_changes, words
from dockyard.engine.prune import parse_filters
from dockyard.errors import InvalidArgument

BASE = {"Env": ["PATH=/bin", "HOME=/root"], "Cmd": ["sh"], "Labels": {"a": "1"}}


def test_cmd_and_entrypoint_take_exec_or_shell_form() -> None:
    assert apply_changes(BASE, ['CMD ["echo", "hi"]'])["Cmd"] == ["echo", "hi"]
    assert apply_changes(BASE, ["CMD echo $HOME"])["Cmd"] == ["/bin/sh", "-c", "echo $HOME"]
    assert apply_changes(BASE, ["CMD [not json"])["Cmd"] == ["/bin/sh", "-c", "[not json"]


def test_entrypoint_clears_a_cmd_no_change_set() -> None:
    alone = apply_changes(BASE, ['ENTRYPOINT ["/bin/echo"]'])
    assert alone["Entrypoint"] == ["/bin/echo"] and alone["Cmd"] is None
    after_cmd = apply_changes(BASE, ["CMD x", "ENTRYPOINT y"])
    assert after_cmd["Cmd"] == ["/bin/sh", "-c", "x"]
    before_cmd = apply_changes(BASE, ["ENTRYPOINT y", "CMD x"])
    assert before_cmd["Cmd"] == ["/bin/sh", "-c", "x"]


def test_env_and_label_pairs_quotes_and_the_old_form() -> None:
    out = apply_changes(BASE, ["ENV A=1 B=\"two words\" C='$HOME' D=$HOME E=${NONE:-dflt}"])
    assert out["Env"] == [
        "PATH=/bin", "HOME=/root", "A=1", "B=two words", "C=$HOME", "D=/root", "E=dflt",
    ]  # fmt: skip
    assert apply_changes(BASE, ["ENV HOME /home/x y"])["Env"] == ["PATH=/bin", "HOME=/home/x y"]
    labels = apply_changes(BASE, ['LABEL a=2 "b c"=d', "LABEL legacy some value"])["Labels"]
    assert labels == {"a": "2", "b c": "d", "legacy": "some value"}
    assert BASE["Labels"] == {"a": "1"}  # the input is not changed


def test_expose_volume_user_workdir_stopsignal() -> None:
    out = apply_changes(
        {},
        [
            "EXPOSE 80 53/UDP 8000-8002",
            'VOLUME ["/data", "/logs"]',
            "VOLUME /cache",
            "USER app:app",
            "WORKDIR /srv",
            "WORKDIR sub",
            "STOPSIGNAL SIGQUIT",
        ],
    )
    assert sorted(out["ExposedPorts"]) == ["53/udp", "80/tcp", "8000/tcp", "8001/tcp", "8002/tcp"]
    assert sorted(out["Volumes"]) == ["/cache", "/data", "/logs"]
    assert out["User"] == "app:app" and out["WorkingDir"] == "/srv/sub"
    assert out["StopSignal"] == "SIGQUIT"


def test_several_instructions_in_one_change_and_comments() -> None:
    out = apply_changes({}, ["# a comment\nUSER nobody\n\nWORKDIR /w"])
    assert out == {"User": "nobody", "WorkingDir": "/w"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("FROM busybox", "from is not a valid change command"),
        ("RUN true", "run is not a valid change command"),
        ("ENV", "ENV requires at least one argument"),
        ("ENV =x", "ENV names can not be blank"),
        ("ENV ONLYNAME", "ENV must have two arguments"),
        ("USER a b", "USER requires exactly one argument"),
        ("EXPOSE http", "invalid containerPort: http"),
        ("EXPOSE 80/icmp", "invalid proto: icmp"),
        ('ENV A="unterminated', "unexpected end of statement"),
        ("CMD", "CMD requires at least one argument"),
    ],
)
def test_bad_changes_are_refused(change: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        apply_changes({}, [change])


def test_words_escapes() -> None:
    assert words(r'a\ b "c\"d" \$X $Y', {"Y": "y"}) == ["a b", 'c"d', "$X", "y"]


def test_prune_filters() -> None:
    f = parse_filters(["label=a", "label!=b=2", "until=1700000000"])
    assert f.matches({"a": "x"}, 1_600_000_000 * 10**9)
    assert not f.matches({"a": "x"}, 1_800_000_000 * 10**9)  # too new
    assert not f.matches({"a": "x", "b": "2"}, 0)
    assert f.matches({"a": "x", "b": "3"}, 0)
    assert not f.matches({}, 0)
    for bad in ("colour=red", "until!=1", "label"):
        with pytest.raises(InvalidArgument, match="invalid filter"):
            parse_filters([bad])
    with pytest.raises(InvalidArgument, match="failed to parse"):
        parse_filters(["until=yesterday"])
