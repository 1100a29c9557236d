"""What voldoctor knows of a daemon, as frozen values that round-trip through JSON.

The live collector (daemon.py) and a saved snapshot produce the same value;
nothing downstream can tell them apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict, ValidationError

SCHEMA_VERSION = 1


class _Value(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DaemonError(_Value):
    kind: str  # socket-missing | connection-refused | permission-denied | timeout | tls | ssh | bad-endpoint | config-corrupt | not-docker | too-large | other
    endpoint: str
    detail: str

    def one_line(self) -> str:
        return f"{self.endpoint}: {self.detail}"


class Endpoint(_Value):
    url: str
    context: str = "default"
    origin: str = "default"  # --host | DOCKER_HOST | DOCKER_CONTEXT | config | default
    socket_path: Optional[str] = None
    socket_group: Optional[str] = None
    tls_verify: bool = False
    cert_dir: Optional[str] = None


class DaemonInfo(_Value):
    server_version: str = ""
    api_version: str = ""
    os: str = ""
    kernel: str = ""
    root_dir: str = ""
    storage_driver: str = ""
    rootless: bool = False
    desktop: bool = False
    name: str = ""
    volume_drivers: tuple[str, ...] = ()


class PathStat(_Value):
    uid: int
    gid: int
    mode: int  # permission bits only
    is_dir: bool
    mtime: float = 0.0
    empty: Optional[bool] = None  # a folder with nothing in it
    oldest: Optional[float] = None  # mtime of the oldest entry in the folder (up to 200 looked at)
    free_bytes: Optional[int] = None  # free space on its filesystem, when read through a helper


class Volume(_Value):
    name: str
    driver: str = "local"
    mountpoint: str = ""
    created_at: str = ""
    labels: dict[str, str] = {}
    scope: str = "local"


class Mount(_Value):
    type: str
    name: str = ""
    source: str = ""
    destination: str
    rw: bool = True
    driver: str = ""
    anon_label: bool = False  # the volume carries com.docker.volume.anonymous (Docker 23 and later)

    @property
    def anonymous(self) -> bool:
        return self.type == "volume" and (self.anon_label or _looks_anonymous(self.name))


def _looks_anonymous(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


class ContainerDetail(_Value):
    """What only an inspect of one container tells: asked for the containers in question."""

    user: str = ""
    image_volumes: tuple[str, ...] = ()
    passwd: Optional[str] = None  # the image's /etc/passwd entry for the user, when the user is a name
    workdir: str = ""
    auto_remove: bool = False
    init_env: tuple[str, ...] = ()  # names (never values) of first-run settings such as POSTGRES_PASSWORD
    changes: Optional[tuple[str, ...]] = None  # files added or changed in its own layer, when asked for
    # How it was started, to write the command that starts it again (values of env are never kept).
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env_names: tuple[str, ...] = ()
    publish: tuple[str, ...] = ()  # -p specs: [ip:]host:container[/proto]
    network: str = ""
    read_only: bool = False  # --read-only: the root filesystem cannot be written
    tmpfs: tuple[str, ...] = ()  # --tmpfs specs (path[:options]); they are not among the mounts
    tty: bool = False  # -t
    interactive: bool = False  # -i
    foreground: bool = False  # started attached (no -d)
    restart: str = ""  # --restart policy (always, unless-stopped, on-failure[:N]); "" for none
    hostname: str = ""  # --hostname, when one was given (docker's default is the short id)


class Port(_Value):
    private: int
    public: Optional[int] = None
    ip: str = ""
    proto: str = "tcp"


class Container(_Value):
    id: str
    name: str
    image: str
    image_id: str = ""
    state: str = ""
    status: str = ""
    created: int = 0
    labels: dict[str, str] = {}
    mounts: tuple[Mount, ...] = ()
    ports: tuple[Port, ...] = ()
    detail: Optional[ContainerDetail] = None

    @property
    def short_id(self) -> str:
        return self.id[:12]


class Image(_Value):
    id: str
    tags: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()  # VOLUME paths, for the images in question
    entrypoint: tuple[str, ...] = ()  # its ENTRYPOINT, for the images in question


class DaemonState(_Value):
    schema_version: int = SCHEMA_VERSION
    endpoint: Endpoint
    reachable: bool
    error: Optional[DaemonError] = None
    info: DaemonInfo = DaemonInfo()
    volumes: tuple[Volume, ...] = ()
    containers: tuple[Container, ...] = ()
    path_stats: dict[str, PathStat] = {}
    missing_paths: tuple[str, ...] = ()  # host paths in question that do not exist (where visible)
    near_paths: dict[str, str] = {}  # a missing host path, or an empty folder the daemon made -> a sibling a slip away
    images: Optional[tuple[Image, ...]] = None  # None: not read for this question
    volume_sizes: Optional[dict[str, int]] = None  # bytes per volume, when read
    free_bytes: Optional[int] = None  # free space under the daemon's root, when visible
    listening: tuple[int, ...] = ()  # ports in question that something on this machine listens on
    free_port: Optional[int] = None  # a host port near the one in question found free here (when looked)
    local_user: str = ""
    requests: int = 0
    replay: bool = False
    collected_at: Optional[float] = None  # when it was read (Unix time): ages are as of then, replayed or not

    @property
    def local(self) -> bool:
        """The daemon's files are this machine's files (a local socket, not Desktop's VM)."""
        return self.endpoint.url.startswith("unix://") and not self.info.desktop

    def volume_users(self) -> dict[str, list[str]]:
        """Volume name -> names of the containers (running or stopped) that mount it."""
        users: dict[str, list[str]] = {}
        for c in self.containers:
            for m in c.mounts:
                if m.type == "volume":
                    users.setdefault(m.name, []).append(c.name)
        return users

    def volume(self, name: str) -> Optional[Volume]:
        return next((v for v in self.volumes if v.name == name), None)

    def container(self, ref: str) -> Optional[Container]:
        ref = ref.lstrip("/")
        for c in self.containers:
            if c.name == ref or c.id == ref:
                return c
        if len(ref) >= 4 and all(ch in "0123456789abcdef" for ch in ref):
            hits = [c for c in self.containers if c.id.startswith(ref)]
            if len(hits) == 1:
                return hits[0]
        return None


class SnapshotError(Exception):
    pass


def dump(state: DaemonState) -> str:
    return state.model_dump_json(indent=1)


def loads(text: str, origin: str = "snapshot") -> DaemonState:
    try:
        data = json.loads(text)
    except RecursionError:
        raise SnapshotError(f"{origin}: nested too deeply to be a voldoctor snapshot") from None
    except ValueError as e:
        hint = " (a markdown report? voldoctor needs the JSON one)" if text.lstrip().startswith("#") else ""
        raise SnapshotError(f"{origin}: not JSON{hint}: {e}") from None
    if not isinstance(data, dict):
        raise SnapshotError(f"{origin}: not a voldoctor snapshot (expected a JSON object)")
    if "state" in data and "schema_version" not in data:  # a report wraps the state
        data = data["state"]
        if not isinstance(data, dict):
            raise SnapshotError(f"{origin}: the report's state is not an object")
    ver = data.get("schema_version")
    if ver != SCHEMA_VERSION:
        raise SnapshotError(
            f"{origin}: snapshot schema version {ver!r} is not one this voldoctor reads (it reads {SCHEMA_VERSION})"
        )
    try:
        return DaemonState.model_validate(data).model_copy(update={"replay": True})
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SnapshotError(f"{origin}: invalid snapshot at {where}: {first['msg']}") from None


def load(path: str | Path) -> DaemonState:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SnapshotError(f"{p}: cannot read: {e}") from None
    return loads(text, str(p))
