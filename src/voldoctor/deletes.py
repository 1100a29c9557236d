"""What a cleanup command would delete, worked out before it runs.

Pure: a pasted command, the daemon's state (volumes with their sizes,
containers with their mounts and labels, the API version) and, for Compose,
the project as read from its files, to the exact containers and volumes the
command removes on this engine.

The rules followed, as the engine and the CLIs apply them:
- `docker rm C...`: a running (or paused, restarting) container is refused
  without -f; with -v the container's anonymous volumes go too, unless
  another container still uses them. Named volumes are never removed.
- `docker container prune`: every container that is not running; no volume.
- `docker volume rm V...`: each volume that exists and that no container,
  running or stopped, uses.
- `docker volume prune`: unused volumes of the local driver. From API 1.42
  (Engine 23) only anonymous ones (those carrying the
  com.docker.volume.anonymous label) unless -a; before 1.42 every unused
  volume, named ones included, and -a is refused by the CLI (nothing goes).
- `docker system prune`: the stopped containers first, then with --volumes
  the volumes left unused, by the same rule as volume prune without -a.
- `docker compose down`: the project's containers (one-off ones included);
  with --remove-orphans also containers of services no longer in the file
  (their anonymous volumes stay); with -v the anonymous volumes of the
  removed containers and the project's declared volumes, never `external`
  ones and never one another container still uses.
- `docker compose rm`: the project's stopped containers (-s: stopped first,
  so all of them); -v their anonymous volumes.
- `docker run --rm`: at exit, the container and the anonymous volumes it made.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional

from voldoctor import compose
from voldoctor.facts.common import _size, api_at_least
from voldoctor.cleanup import DeleteCommand, already_ran, find, parse  # noqa: F401 - read there, forecast here
from voldoctor.shellsubs import RUNNING, expand
from voldoctor.state import Container, DaemonState, Volume

ANON_LABEL = "com.docker.volume.anonymous"
P_LABEL, S_LABEL, ONEOFF_LABEL = "com.docker.compose.project", "com.docker.compose.service", "com.docker.compose.oneoff"

















# ------------------------------------------------------------ the forecast


@dataclass(frozen=True)
class Loss:
    name: Optional[str]  # None: a volume the command itself makes (docker run --rm)
    size_bytes: Optional[int]
    has_files: Optional[bool]
    target: str = ""  # for a volume made by the command: where it is mounted

    def json(self) -> dict:
        d = {"name": self.name, "size_bytes": self.size_bytes, "has_files": self.has_files}
        if self.name is None:
            d["new"], d["target"] = True, self.target
        return d


@dataclass(frozen=True)
class Forecast:
    command: DeleteCommand
    containers: tuple[str, ...] = ()
    volumes: tuple[Loss, ...] = ()
    notes: tuple[str, ...] = ()
    refused: Optional[str] = None  # the command fails as a whole: nothing goes
    when: str = "now"  # "now", or "at exit" for docker run --rm
    kept: tuple[str, ...] = field(default_factory=tuple)  # volumes people often expect to go, and that stay
    unknown: bool = False  # a $(...) whose output cannot be told here: more may go than listed
    images: tuple[str, ...] = ()  # images a system prune removes (their tags, else short ids)

    @property
    def loses_files(self) -> bool:
        return self.unknown or any(v.has_files for v in self.volumes)

    def json(self) -> dict:
        return {"volumes": [v.json() for v in self.volumes], "containers": list(self.containers),
                "command": self.command.kind, "when": self.when, "refused": self.refused,
                "kept": list(self.kept), "notes": list(self.notes), "unknown": self.unknown,
                "images": list(self.images)}


def is_anonymous(state: DaemonState, v: Volume) -> bool:
    """Anonymous as the engine counts it for pruning (API 1.42+: the label)."""
    return ANON_LABEL in v.labels


def _loss(state: DaemonState, name: str) -> Loss:
    v = state.volume(name)
    size = (state.volume_sizes or {}).get(name)
    size = None if size is None or size < 0 else size
    has = None
    st = state.path_stats.get(v.mountpoint) if v is not None and v.mountpoint else None
    if st is not None and st.empty is not None:
        has = not st.empty
    elif size is not None:
        has = size > 0
    return Loss(name, size, has)


def _users(state: DaemonState, gone: set[str]) -> dict[str, list[str]]:
    """Volume name -> ids of the containers that still use it once `gone` are removed."""
    out: dict[str, list[str]] = {}
    for c in state.containers:
        if c.id in gone:
            continue
        for m in c.mounts:
            if m.type == "volume" and m.name:
                out.setdefault(m.name, []).append(c.id)
    return out


def _anon_of(state: DaemonState, removed: list[Container]) -> list[str]:
    """Anonymous volumes of removed containers that no remaining container uses."""
    gone = {c.id for c in removed}
    users = _users(state, gone)
    out = []
    for c in removed:
        for m in c.mounts:
            if m.type == "volume" and m.anonymous and m.name not in users and m.name not in out:
                out.append(m.name)
    return out


def _prunable(state: DaemonState, gone: set[str], all_: bool) -> list[str]:
    users = _users(state, gone)
    only_anon = api_at_least(state, (1, 42)) and not all_
    return [v.name for v in state.volumes
            if v.driver == "local" and v.name not in users and (not only_anon or is_anonymous(state, v))]


def candidates(cmd: DeleteCommand, state: DaemonState, project=None) -> list[str]:
    """Volume names the forecast may name (so their sizes and contents can be read)."""
    f = forecast(cmd, state, project)
    return [v.name for v in f.volumes if v.name]


def forecast(cmd: DeleteCommand, state: DaemonState, project=None) -> Forecast:
    fn = {"rm": _rm, "container-prune": _container_prune, "volume-rm": _volume_rm, "volume-prune": _volume_prune,
          "system-prune": _system_prune, "compose-down": _compose_down, "compose-rm": _compose_rm,
          "run-rm": _run_rm}[cmd.kind]
    names, unknown, said = expand(cmd, state)
    f = fn(replace(cmd, names=tuple(names)) if cmd.subs else cmd, state, project)
    notes = said + list(f.notes)
    if cmd.filters:
        notes.append("--filter " + " ".join(cmd.filters) + ": filters are not applied here; the list is everything "
                     "the command would remove without them (an upper bound)")
    if cmd.kind in ("container-prune", "volume-prune", "system-prune") and not cmd.force and f.refused is None:
        notes.append("without -f Docker asks for confirmation first; this is what goes if you answer y")
    if cmd.kind == "compose-rm" and not cmd.force and f.containers:
        notes.append("without -f Compose asks for confirmation first; this is what goes if you answer y")
    return Forecast(cmd, f.containers, f.volumes, tuple(notes), f.refused, f.when, f.kept, unknown, f.images)


def _make(cmd, state, containers: list[Container], volumes: list[str], notes=(), refused=None, when="now",
          kept=()) -> Forecast:
    return Forecast(cmd, tuple(c.name for c in containers), tuple(_loss(state, v) for v in volumes), tuple(notes),
                    refused, when, tuple(kept))


def _rm(cmd, state, project):
    notes, removed = [], []
    for ref in cmd.names:
        c = state.container(ref)
        if c is None:
            notes.append(f"there is no container {ref}: Docker reports an error for it and goes on with the others")
        elif c.state in RUNNING and not cmd.force:
            notes.append(f"{c.name} is {c.state}: without -f Docker refuses to remove it, so it and its volumes stay")
        elif c not in removed:
            removed.append(c)
    vols = _anon_of(state, removed) if cmd.volumes_flag else []
    kept = [m.name for c in removed for m in c.mounts if m.type == "volume" and m.name not in vols]
    if not cmd.volumes_flag and any(m.type == "volume" and m.anonymous for c in removed for m in c.mounts):
        notes.append("without -v the anonymous volumes stay behind, unused, and are hard to find again")
    return _make(cmd, state, removed, vols, notes, kept=kept)


def _container_prune(cmd, state, project):
    return _make(cmd, state, [c for c in state.containers if c.state not in RUNNING], [])


def _volume_rm(cmd, state, project):
    notes, out = [], []
    users = state.volume_users()
    for name in cmd.names:
        if state.volume(name) is None:
            if not cmd.force:
                notes.append(f"there is no volume {name}: Docker reports an error for it")
        elif name in users:
            notes.append(f"{name} is in use by {', '.join(users[name])}: Docker refuses to remove it (even with -f)")
        elif name not in out:
            out.append(name)
    return _make(cmd, state, [], out, notes)


def _volume_prune(cmd, state, project):
    if cmd.all and not api_at_least(state, (1, 42)):
        return _make(cmd, state, [], [], refused=f"-a needs API 1.42 (Engine 23 or later); this engine speaks API "
                     f"{state.info.api_version or '?'}, so the docker CLI refuses the command. Here, plain "
                     "'docker volume prune' already removes every unused volume, named ones included")
    notes = []
    if not api_at_least(state, (1, 42)):
        notes.append(f"on this engine (API {state.info.api_version}, before 1.42) prune removes every unused volume, "
                     "named ones included; Engine 23 and later remove only anonymous ones unless -a")
    vols = _prunable(state, set(), cmd.all)
    return _make(cmd, state, [], vols, notes)


def _system_prune(cmd, state, project):
    removed = [c for c in state.containers if c.state not in RUNNING]
    vols: list[str] = []
    notes = []
    if cmd.volumes_flag:
        vols = _prunable(state, {c.id for c in removed}, False)
        if not api_at_least(state, (1, 42)):
            notes.append(f"on this engine (API {state.info.api_version}, before 1.42) --volumes removes every unused "
                         "volume, named ones included, also those the removed containers used")
    else:
        notes.append("without --volumes no volume is removed")
    notes.append("networks no container uses and the build cache go too (not listed here)")
    f = _make(cmd, state, removed, vols, notes)
    return replace(f, images=_prunable_images(state, {c.id for c in removed}, cmd.all))


def _prunable_images(state: DaemonState, gone: set[str], all_: bool) -> tuple[str, ...]:
    """The images `system prune` removes: with -a every image no remaining container uses, else
    only the untagged (dangling) ones no remaining container uses."""
    if state.images is None:
        return ()
    used = {c.image_id for c in state.containers if c.id not in gone} | \
        {c.image for c in state.containers if c.id not in gone}
    return tuple(", ".join(i.tags) or i.id.removeprefix("sha256:")[:12] for i in state.images
                 if i.id not in used and not (set(i.tags) & used) and (all_ or not i.tags))


def _project_containers(state: DaemonState, name: str) -> list[Container]:
    return [c for c in state.containers if c.labels.get(P_LABEL) == name]


def _compose_project(cmd, project):
    """The project name and its services, or a reason Compose would stop."""
    flavor = "v1" if cmd.compose_v1 else "v2"
    if project is None or project.compose_file is None:
        if cmd.project_name and not cmd.compose_v1:
            name = cmd.project_name
            return name, None, None
        return None, None, "no compose file was found here (give --project DIR or -f FILE), so Compose stops " \
                           "with an error and removes nothing"
    try:
        name = project.name(flavor, flag=cmd.project_name)
    except compose.ComposeError as e:
        return None, None, f"Compose refuses the project name: {e}"
    return name, project, None


def _compose_down(cmd, state, project):
    name, proj, err = _compose_project(cmd, project)
    if err:
        return _make(cmd, state, [], [], refused=err)
    mine = _project_containers(state, name)
    services = {s.name for s in proj.services} if proj is not None else None
    notes = []
    removed = [c for c in mine if services is None or c.labels.get(S_LABEL) in services]
    orphans = [c for c in mine if c not in removed]
    if orphans and cmd.remove_orphans:
        removed_all = removed + orphans
    else:
        removed_all = removed
        if orphans:
            notes.append("left running: " + ", ".join(c.name for c in orphans) + " (services no longer in the file; "
                         "--remove-orphans removes them)")
    vols: list[str] = []
    kept: list[str] = []
    if cmd.volumes_flag:
        vols = _anon_of(state, removed)
        users = _users(state, {c.id for c in removed_all})
        for decl in proj.volumes if proj is not None else ():
            real = proj.volume_name(decl, name, "v1" if cmd.compose_v1 else "v2", state)
            if decl.external:
                kept.append(real)
                continue
            if state.volume(real) is None:
                continue
            if real in users:
                notes.append(f"{real} is still used by another container: Compose cannot remove it "
                             "(Compose 1.x stops there with an error)")
                continue
            if real not in vols:
                vols.append(real)
        if proj is None:
            notes.append("without the compose file, Compose finds only the containers by label; the project's "
                         "named volumes are not listed")
    else:
        kept = sorted({m.name for c in removed_all for m in c.mounts if m.type == "volume" and m.name})
    return _make(cmd, state, removed_all, vols, notes, kept=kept)


def _compose_rm(cmd, state, project):
    name, proj, err = _compose_project(cmd, project)
    if err:
        return _make(cmd, state, [], [], refused=err)
    services = set(cmd.names) or ({s.name for s in proj.services} if proj is not None else None)
    if proj is not None and cmd.names:
        unknown = [s for s in cmd.names if s not in {x.name for x in proj.services}]
        if unknown:
            return _make(cmd, state, [], [], refused=f"no such service: {', '.join(unknown)}")
    mine = [c for c in _project_containers(state, name) if services is None or c.labels.get(S_LABEL) in services]
    notes = []
    removed = [c for c in mine if cmd.stop or c.state not in RUNNING]
    running = [c.name for c in mine if c not in removed]
    if running:
        notes.append("still running, so kept: " + ", ".join(running) + " (-s stops them first)")
    vols = _anon_of(state, removed) if cmd.volumes_flag else []
    return _make(cmd, state, removed, vols, notes)


def _run_rm(cmd, state, project):
    run = cmd.run
    losses = [Loss(None, None, None, m.target) for m in run.mounts if m.type == "anonymous" and not m.problem]
    from voldoctor.facts.common import covers, image_of

    img = image_of(state, run.image) if state.images is not None and run.image else None
    for path in img.volumes if img else ():
        if not any(covers(m.target, path) for m in run.mounts if m.target):
            losses.append(Loss(None, None, None, path))
    name = run.name or "(the new container)"
    kept = [m.source for m in run.mounts if m.type == "volume" and m.source]
    notes = ["whatever the container writes outside its volumes goes with it"]
    if img is None and run.image:
        notes.append(f"the image {run.image} is not here to read, so VOLUME paths it declares are not listed")
    return Forecast(cmd, (name,), tuple(losses), tuple(notes), None, "at exit", tuple(kept))


# ------------------------------------------------------------ words


def human_size(n: Optional[int]) -> str:
    return _size(n, zero="0 B")


def describe(v: Loss) -> str:
    if v.name is None:
        return f"a new anonymous volume at {v.target} (whatever is written there)"
    what = {True: "holds files", False: "empty", None: "contents unknown"}[v.has_files]
    anon = len(v.name) == 64 and all(c in "0123456789abcdef" for c in v.name)
    return f"{v.name[:12] + ' (anonymous' if anon else v.name + ' ('}{', ' if anon else ''}{human_size(v.size_bytes)}, {what})"


def text_lines(f: Forecast) -> list[str]:
    out = []
    holding = [v for v in f.volumes if v.has_files]
    if holding:
        out.append("WARNING: this deletes " + ("a volume that holds" if len(holding) == 1 else
                                              f"{len(holding)} volumes that hold")
                   + " files, for good: " + ", ".join(describe(v) for v in holding))
    elif f.when == "at exit" and f.volumes:
        out.append("WARNING: what the container writes to its anonymous volumes is deleted when it stops")
    head = f"{f.command.raw}" if len(f.command.raw) < 100 else f.command.raw[:97] + "..."
    if f.refused:
        out.append(f"{head}: would fail and delete nothing: {f.refused}")
    else:
        out.append(f"{head}: would delete" + (" when the container stops:" if f.when == "at exit" else ":"))
        nothing = "none that I can tell (see the note)" if f.unknown else "none"
        out.append("  containers: " + (", ".join(f.containers) or nothing))
        out.append("  volumes:    " + ("; ".join(describe(v) for v in f.volumes) or nothing))
        if f.command.kind == "system-prune":
            out.append("  images:     " + (", ".join(f.images) or "none") + ("   (an image you built yourself comes back "
                       "only by building it again)" if f.images and f.command.all else ""))
        if f.kept:
            out.append("  kept:       " + ", ".join(dict.fromkeys(f.kept)))
    out += [f"  note: {n}" for n in f.notes]
    return out
