"""Facts about the daemon as a whole and what the question names outside any
container: the data path, a port, a container name, an image."""

from __future__ import annotations

from typing import Optional

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from voldoctor.facts.base import Fact
from voldoctor.facts.common import Query, _normal_image, _size, age, holds_data, image_of
from voldoctor.state import DaemonState

SUBJECT = "daemon"
DECLARED = [
    Fact("daemon.reachable", "bool", "the daemon answered"),
    Fact("daemon.error", "str", "why it did not: socket-missing, connection-refused, "
         "permission-denied, timeout, tls, ssh, bad-endpoint, config-corrupt, not-docker, too-large, other"),
    Fact("daemon.error_detail", "str", "the low-level reason, as the transport gave it"),
    Fact("daemon.endpoint", "str", "the endpoint voldoctor tried"),
    Fact("daemon.endpoint_origin", "str", "where that endpoint came from: --host, DOCKER_HOST, DOCKER_CONTEXT, "
         "config (the current docker context) or default"),
    Fact("daemon.socket_path", "str", "the unix socket path, for a unix endpoint"),
    Fact("daemon.asked_endpoint", "str", "a daemon address named in the question (unix:///var/run/docker.sock, "
         "tcp://...) that is not the one voldoctor reached"),
    Fact("daemon.socket_group", "str", "the group that owns the socket, when visible"),
    Fact("daemon.local_user", "str", "the user running voldoctor"),
    Fact("daemon.context", "str", "the docker context the endpoint came from"),
    Fact("daemon.volumes_where", "str", "where volume data lives: host, desktop-vm, remote or rootless"),
    Fact("daemon.root_dir", "str", "the daemon's data root (volumes are under ROOT/volumes)"),
    Fact("daemon.free_mb", "int", "free space where the daemon keeps its data, in MiB, when known"),
    Fact("daemon.dangling", "str", "volumes no container uses, largest first, with size and age", "df"),
    Fact("daemon.dangling_count", "int", "how many volumes no container uses", "df"),
    Fact("daemon.dangling_first", "str", "the full name of the largest of them", "df"),
    Fact("daemon.desktop", "bool", "the daemon is Docker Desktop"),
    Fact("daemon.helper_image", "str", "a local image with a shell, for throwaway helper containers", "images"),
    Fact("query.path", "str", "the data path the learner named"),
    Fact("query.removes", "bool", "the pasted command removes volumes or containers (volume rm, rm); absent otherwise"),
    Fact("port.number", "int", "the host port in question (from -p or an error text)"),
    Fact("port.held_by", "str", "who already holds that port: a container, or a process on this machine"),
    Fact("port.free", "int", "a host port near it that was found free here (absent when nobody could look)"),
    Fact("port.inside", "int", "the container port it was to be published to (from -p), else 80"),
    Fact("name.wanted", "str", "the container name in question (from --name or an error text)"),
    Fact("name.taken_by", "str", "the existing container that has that name"),
    Fact("name.state", "str", "that container's state"),
    Fact("name.made_by_this", "bool", "the pasted command is told as already run and that container is the one it "
         "made (same image and mounts): the name is not in anyone's way (absent otherwise)"),
    Fact("image.wanted", "str", "the image in question (from a command or an error text)", "images"),
    Fact("image.present", "bool", "that image is present locally", "images"),
    Fact("image.near", "str", "a local image whose name is close to the wanted one", "images"),
    Fact("image.known_near", "str", "a well-known image whose name is a slip away from the wanted one (ngnix for "
         "nginx), the tag kept", "images"),
]


def _where(state: DaemonState) -> str:
    if state.info.desktop:
        return "desktop-vm"
    if not state.endpoint.url.startswith("unix://"):
        return "remote"
    return "rootless" if state.info.rootless else "host"


def dangling(state: DaemonState) -> list[tuple[str, Optional[int], str]]:
    """Volumes no container (running or stopped) uses: name, size, age; largest first."""
    used = state.volume_users()
    sizes = state.volume_sizes or {}
    # Only those that can hold the learner's data: an empty one (0 bytes, or an empty folder) is no lead.
    rows = [(v.name, sizes.get(v.name), age(v.created_at, state.collected_at)) for v in state.volumes
            if v.name not in used and holds_data(state, v.name) is not False]
    return sorted(rows, key=lambda r: -(r[1] or 0))


def short_name(name: str) -> str:
    """An anonymous volume's 64-hex name cut to 12 characters, for reading (docker wants the full name)."""
    return name[:12] if _anonymous(name) else name


def _anonymous(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


# Images a learner is likely to type, to tell a slip ("ngnix") from an image of its own name.
KNOWN_IMAGES = ("nginx httpd postgres mysql mariadb mongo redis node python ubuntu debian alpine busybox golang "
                "openjdk wordpress php ruby rabbitmq memcached traefik caddy centos fedora adminer phpmyadmin "
                "hello-world docker/getting-started grafana/grafana prom/prometheus").split()


def known_near(ref: str) -> Optional[str]:
    """A well-known image one or two letters away from `ref`'s name (its tag kept), if any."""
    name, _, tag = ref.partition("@")[0].rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "")
    name = name.lower().removeprefix("docker.io/").removeprefix("library/")
    if name in KNOWN_IMAGES:
        return None
    best = min(KNOWN_IMAGES, key=lambda k: (Levenshtein.distance(name, k), k))
    if Levenshtein.distance(name, best) > (1 if len(best) <= 4 else 2):
        return None
    return best + (f":{tag}" if tag else "")


def produce(state: DaemonState, q: Query) -> dict:
    ep = state.endpoint
    facts = {
        "daemon.reachable": state.reachable,
        "daemon.error": state.error.kind if state.error else None,
        "daemon.error_detail": state.error.detail if state.error else None,
        "daemon.endpoint": ep.url,
        "daemon.endpoint_origin": ep.origin,
        "daemon.socket_path": ep.socket_path,
        "daemon.socket_group": ep.socket_group,
        "daemon.local_user": state.local_user or None,
        "daemon.context": ep.context,
        "query.path": q.paths[0] if q.paths else None,
        "query.removes": True if q.command is not None and q.command.ok and q.command.kind in ("volume-rm", "container-rm")
        else None,
        "daemon.asked_endpoint": other_endpoint(q.paths, ep.url, ep.socket_path),
    }
    if not state.reachable:
        return facts
    from voldoctor.daemon_facts import helper_image  # pure helper, no docker import

    free = state.free_bytes
    if free is None:
        helper_free = [s.free_bytes for s in state.path_stats.values() if s.free_bytes is not None]
        free = min(helper_free) if helper_free else None
    dang = dangling(state)
    facts.update({
        "daemon.volumes_where": _where(state),
        "daemon.root_dir": state.info.root_dir or None,
        "daemon.free_mb": free // (1024 * 1024) if free is not None else None,
        "daemon.dangling": ("; ".join(f"{short_name(n)} ({_size(sz)}, {age})" for n, sz, age in dang[:8])
                            + (f"; and {len(dang) - 8} more" if len(dang) > 8 else "")) or None,
        "daemon.dangling_count": len(dang),
        "daemon.dangling_first": dang[0][0] if dang else None,
        "daemon.desktop": state.info.desktop,
        "daemon.helper_image": helper_image(state.images) if state.images is not None else None,
    })
    cmd = q.command if q.command is not None and q.command.ok else None
    port = next((p for p, _ in (cmd.ports if cmd else ()) if p), None) or (q.ports[0] if q.ports else None)
    if port is not None:
        holders = [c.name for c in state.containers for p in c.ports if p.public == port]
        held = f"container {holders[0]}" if holders else (
            "a program on this machine (not a container)" if port in state.listening else None)
        inside = next((int(i.split("/")[0]) for p, i in (cmd.ports if cmd else ()) if p == port and i.split("/")[0].isdigit()), 80)
        free = state.free_port if state.free_port not in (None, port) else None
        facts.update({"port.number": port, "port.held_by": held, "port.free": free, "port.inside": inside})
    name = (cmd.name if cmd and cmd.name else None) or (q.names[0] if q.names else None)
    if name:
        other = state.container(name)
        facts.update({"name.wanted": name, "name.taken_by": f"{other.name} ({other.short_id})" if other else None,
                      "name.state": other.state if other else None,
                      "name.made_by_this": True if other and cmd and q.ran and cmd.name == name and made_by(other, cmd)
                      else None})
    image = (cmd.image if cmd and cmd.image else None) or (q.images[0] if q.images else None)
    if image and state.images is not None:
        have = image_of(state, image)
        tags = [t for i in state.images for t in i.tags]
        near = process.extractOne(_normal_image(image), tags, scorer=fuzz.ratio, score_cutoff=80) if not have else None
        facts.update({"image.wanted": image, "image.present": have is not None, "image.near": near[0] if near else None,
                      "image.known_near": known_near(image) if not have else None})
    return facts


def made_by(c, cmd) -> bool:
    """The container has the command's image and every mount the command writes (a volume by name, a
    bind by its absolute source) at the same place: it is what the command made when it ran."""
    if not cmd.image or c.image.removesuffix(":latest") != cmd.image.removesuffix(":latest"):
        return False
    have = {(m.name if m.type == "volume" else m.source, m.destination.rstrip("/")) for m in c.mounts}
    want = [(m.source, m.target.rstrip("/")) for m in cmd.mounts if m.source and (m.type == "volume" or
                                                                                  m.source.startswith("/"))]
    return all(w in have for w in want)


def other_endpoint(paths: tuple[str, ...], url: str, socket: Optional[str]) -> Optional[str]:
    """The first daemon address in the question that differs from the one reached."""
    for p in paths:
        if p.startswith(("unix://", "tcp://", "npipe://", "ssh://")) or p.endswith(".sock"):
            sock = p.removeprefix("unix://") if p.startswith("unix://") or p.startswith("/") else None
            if p != url and (sock is None or sock != socket):
                return p
    return None
