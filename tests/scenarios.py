"""Broken (and healthy) lab states, built for real on a daemon.

Each scenario builds its state with the Docker API, says what a learner asks,
and which rules must (and must not) answer. The live tests build them on the
private daemon; with VOLDOCTOR_CAPTURE=1 they also save the state to
tests/data/snapshots/, which the unit tests replay without a daemon.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Scenario:
    name: str
    build: Callable  # (lab) -> None
    argv: tuple[str, ...]  # arguments after `voldoctor diagnose`
    first: str | None  # the rule that must come first; None: no problem at all
    absent: tuple[str, ...] = ()
    evidence: dict = field(default_factory=dict)  # facts the first diagnosis must show


def _typo(lab):
    lab.volume("my-data")


def _missing(lab):
    lab.volume("vdt-other")


def _uid(lab):
    lab.volume("vdt-rootvol")
    lab.container("vdt-writer", user="1000", binds=["vdt-rootvol:/data"])


def _uid_named(lab):
    lab.volume("vdt-rootvol2")
    lab.container("vdt-appuser", image="vdt-busybox-user:latest", binds=["vdt-rootvol2:/srv/data"])


def _readonly(lab):
    lab.volume("vdt-rovol")
    lab.container("vdt-reader", binds=["vdt-rovol:/data:ro"])


def _path(lab):
    lab.volume("my-data")
    lab.container("vdt-web", binds=["my-data:/app/date"])


def _novolume(lab):
    lab.container("vdt-bare")


def _anonymous(lab):
    lab.container("vdt-anon", image="vdt-busybox-vol:latest")


def _inuse(lab):
    lab.volume("vdt-held")
    lab.container("vdt-holder", binds=["vdt-held:/data"], start=False)


def _invalid(lab):
    pass


def _healthy(lab):
    lab.volume("my-data")
    lab.container("vdt-lab", binds=["my-data:/app/data"])


SCENARIOS = [
    Scenario("volume-typo", _typo, ("volume not found", "--volume", "my_data"), "volume-name-typo",
             evidence={"volume.name": "my_data", "volume.near_miss": "my-data"}),
    Scenario("volume-missing", _missing, ("Error response from daemon: get pgdata: no such volume",),
             "volume-missing", ("volume-name-typo",), {"volume.name": "pgdata"}),
    Scenario("uid-mismatch", _uid, ("touch: /data/f: Permission denied",), "uid-mismatch",
             ("mounted-read-only",), {"container.uid": 1000, "mount.owner_uid": 0, "mount.mode": "755"}),
    Scenario("uid-mismatch-named-user", _uid_named, ("permision denied writing /srv/data/x",), "uid-mismatch",
             (), {"container.uid": 1000, "container.user": "app"}),
    Scenario("read-only", _readonly, ("touch: /data/x: Read-only file system",), "mounted-read-only",
             ("uid-mismatch",), {"mount.rw": False}),
    Scenario("path-mismatch", _path, ("data in /app/data is gone after docker rm",), "mount-path-mismatch",
             (), {"path.wanted": "/app/data", "path.nearest_destination": "/app/date"}),
    Scenario("no-volume", _novolume, ("my data is gone after i removed the container", "--container", "vdt-bare"),
             "container-without-volume", (), {"container.mount_count": 0}),
    Scenario("anonymous", _anonymous, ("lost my data when I removed the container", "--container", "vdt-anon"),
             "anonymous-volume", ("container-without-volume",), {"path.covered_by": "anonymous"}),
    Scenario("in-use", _inuse, ("docker volume rm vdt-held says volume is in use",), "volume-in-use",
             (), {"volume.used_by": "vdt-holder"}),
    Scenario("invalid-name", _invalid,
             ('Error response from daemon: create my data: "my data" includes invalid characters for a local '
              'volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
              'directory, use absolute path',), "volume-name-invalid", ("volume-missing",),
             {"volume.name": "my data"}),
    Scenario("healthy-not-found", _healthy, ("volume not found", "--volume", "my-data"), None),
    Scenario("healthy-permission", _healthy, ("permission denied", "--container", "vdt-lab"), None),
    Scenario("healthy-persist", _healthy, ("data in /app/data is gone", "--container", "vdt-lab"), None),
    # In the healthy lab a container holds my-data, so "in use" is true: the
    # warning that names the holder (and the safe removal order) is right.
    Scenario("healthy-in-use", _healthy, ("volume is in use", "--volume", "my-data"), "volume-in-use",
             (), {"volume.used_by": "vdt-lab"}),
]
