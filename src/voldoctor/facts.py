"""The named facts that rules may test and templates may quote.

A fact's scope says what a rule that uses it is evaluated over: the daemon
as a whole, one named volume, one container, or one mount of one container.
A mount subject also carries its container's facts, and every subject
carries the daemon's and the question's facts.
"""

from __future__ import annotations

from dataclasses import dataclass

SCOPES = ("daemon", "volume", "container", "mount", "command", "spec")


@dataclass(frozen=True)
class Fact:
    name: str
    type: str  # bool | int | str
    doc: str
    needs: str = ""  # an extra daemon read this fact costs: "df", "images" or "changes"

    @property
    def scope(self) -> str:
        head = self.name.split(".", 1)[0]
        return {"path": "container", "query": "daemon", "port": "daemon", "name": "daemon", "image": "daemon",
                "cmd": "command"}.get(head, head)


_FACTS = [
    Fact("daemon.reachable", "bool", "the daemon answered"),
    Fact("daemon.error", "str", "why it did not: socket-missing, connection-refused, "
         "permission-denied, timeout, tls, ssh, bad-endpoint, config-corrupt, not-docker, other"),
    Fact("daemon.error_detail", "str", "the low-level reason, as the transport gave it"),
    Fact("daemon.endpoint", "str", "the endpoint voldoctor tried"),
    Fact("daemon.socket_path", "str", "the unix socket path, for a unix endpoint"),
    Fact("daemon.socket_group", "str", "the group that owns the socket, when visible"),
    Fact("daemon.local_user", "str", "the user running voldoctor"),
    Fact("daemon.context", "str", "the docker context the endpoint came from"),
    Fact("daemon.volumes_where", "str", "where volume data lives: host, desktop-vm, remote or rootless"),
    Fact("daemon.root_dir", "str", "the daemon's data root (volumes are under ROOT/volumes)"),
    Fact("daemon.free_mb", "int", "free space where the daemon keeps its data, in MiB, when known"),
    Fact("daemon.dangling", "str", "volumes no container uses, largest first, with size and age", "df"),
    Fact("daemon.dangling_count", "int", "how many volumes no container uses", "df"),
    Fact("daemon.desktop", "bool", "the daemon is Docker Desktop"),
    Fact("daemon.helper_image", "str", "a local image with a shell, for throwaway helper containers", "images"),
    Fact("query.path", "str", "the data path the learner named"),
    Fact("port.number", "int", "the host port in question (from -p or an error text)"),
    Fact("port.held_by", "str", "who already holds that port: a container, or a process on this machine"),
    Fact("name.wanted", "str", "the container name in question (from --name or an error text)"),
    Fact("name.taken_by", "str", "the existing container that has that name"),
    Fact("name.state", "str", "that container's state"),
    Fact("image.wanted", "str", "the image in question (from a command or an error text)", "images"),
    Fact("image.present", "bool", "that image is present locally", "images"),
    Fact("image.near", "str", "a local image whose name is close to the wanted one", "images"),
    Fact("cmd.kind", "str", "the pasted command: run, create, volume-create, volume-rm, volume-inspect, container-rm"),
    Fact("cmd.text", "str", "the pasted command"),
    Fact("cmd.image", "str", "the image the pasted command runs"),
    Fact("cmd.rm", "bool", "the command removes the container when it stops (--rm), or rm -v"),
    Fact("cmd.user", "str", "the --user of the pasted command"),
    Fact("spec.raw", "str", "one mount of the pasted command, as written"),
    Fact("spec.type", "str", "volume, bind, anonymous or tmpfs"),
    Fact("spec.source", "str", "the volume name or host path"),
    Fact("spec.target", "str", "the path inside the container"),
    Fact("spec.ro", "bool", "mounted read-only"),
    Fact("spec.problem", "str", "what is wrong with how the mount is written"),
    Fact("spec.corrected", "str", "the mount written correctly"),
    Fact("spec.volume_exists", "bool", "the named volume exists already"),
    Fact("spec.near_miss", "str", "an existing volume whose name is close to this one"),
    Fact("spec.source_exists", "bool", "the bind mount's host path exists (when visible here)"),
    Fact("spec.image_volume", "bool", "not written in the command: a VOLUME the image declares, left unnamed"),
    Fact("spec.writes_expected", "bool", "the target is where the app keeps data (an image VOLUME, or a data-like "
         "folder such as /app/data or /var/lib/mysql)", "images"),
    Fact("volume.name", "str", "the volume name in question"),
    Fact("volume.exists", "bool", "a volume of that name exists"),
    Fact("volume.near_miss", "str", "the closest existing volume name, if close"),
    Fact("volume.near_misses", "str", "all close existing names, comma separated"),
    Fact("volume.used_by", "str", "containers that mount it, running or stopped, space separated"),
    Fact("volume.valid_name", "bool", "the name is one the local driver accepts"),
    Fact("volume.suggested_name", "str", "a valid name close to an invalid one"),
    Fact("volume.mountpoint", "str", "where the daemon keeps its data"),
    Fact("volume.compose_match", "str", "an existing volume that Compose made for this name (PROJECT_NAME)"),
    Fact("volume.owner_uid", "int", "uid owning the volume's data folder, when known"),
    Fact("volume.mode", "str", "permission bits of the volume's data folder, octal, when known"),
    Fact("container.name", "str", "container name"),
    Fact("container.id", "str", "short container id"),
    Fact("container.image", "str", "image the container runs"),
    Fact("container.state", "str", "running, exited, created, ..."),
    Fact("container.user", "str", "the user the container runs as, as configured"),
    Fact("container.uid", "int", "that user's numeric uid (0 when none is set)"),
    Fact("container.gid", "int", "that user's numeric gid"),
    Fact("container.mount_count", "int", "how many mounts it has"),
    Fact("container.mounts", "str", "its mounts, summarised"),
    Fact("container.image_volumes", "str", "paths the image declares as VOLUME"),
    Fact("container.in_question", "bool", "named by the learner, or the best lead"),
    Fact("container.workdir", "str", "the container's working directory (from the image)"),
    Fact("container.auto_remove", "bool", "started with --rm"),
    Fact("container.init_env", "str", "first-run settings it passes (database passwords, names), names only"),
    Fact("container.layer_writes", "str", "files it wrote outside every mount (they die with it)", "changes"),
    Fact("container.layer_write_count", "int", "how many such files", "changes"),
    Fact("container.layer_first", "str", "the first of those files", "changes"),
    Fact("path.wanted", "str", "the data path in question (the learner's, else an image VOLUME)"),
    Fact("path.origin", "str", "where path.wanted came from: query or image"),
    Fact("path.covered_by", "str", "what is mounted over path.wanted: volume, bind, "
         "anonymous, tmpfs (absent when nothing is)"),
    Fact("path.covering_name", "str", "the volume or host path mounted over path.wanted"),
    Fact("path.nearest_destination", "str", "the mount destination closest to path.wanted"),
    Fact("path.nearest_name", "str", "what is mounted at path.nearest_destination"),
    Fact("mount.type", "str", "volume, bind or tmpfs"),
    Fact("mount.name", "str", "volume name, or host path for a bind mount"),
    Fact("mount.source", "str", "host path of the mount"),
    Fact("mount.destination", "str", "path inside the container"),
    Fact("mount.rw", "bool", "mounted read-write"),
    Fact("mount.anonymous", "bool", "an unnamed volume made for this container"),
    Fact("mount.visible", "bool", "the host path could be examined from here"),
    Fact("mount.owner_uid", "int", "uid owning the host path"),
    Fact("mount.owner_gid", "int", "gid owning the host path"),
    Fact("mount.mode", "str", "permission bits of the host path, octal"),
    Fact("mount.writable", "bool", "the container's user may write the host path"),
    Fact("mount.source_exists", "bool", "the bind mount's host path exists (when visible here)"),
    Fact("mount.source_empty", "bool", "the host path is an empty folder"),
    Fact("mount.daemon_created", "bool", "a bind source the daemon made itself (root-owned, made with the container)"),
    Fact("mount.covers_workdir", "bool", "the mount lies over the image's working directory"),
    Fact("mount.predates_container", "bool", "the volume held data from before this container was created"),
]

FACTS: dict[str, Fact] = {f.name: f for f in _FACTS}


def scope_of(names) -> str:
    """The narrowest scope among the given fact names."""
    best = 0
    for n in names:
        f = FACTS.get(n)
        if f is not None:
            best = max(best, SCOPES.index(f.scope))
    return SCOPES[best]
