"""A learner's project folder: its compose file, .env and Dockerfiles, read
statically (never run) into plain values.

A file that cannot be read is a ProjectError with one line naming the file,
and the line and column where that is known; the CLI prints it and exits 2.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

from voldoctor import compose
from voldoctor.dockerfile import Dockerfile, DockerVolume, read_dockerfile  # noqa: F401 - parts of a Project
from voldoctor.projectfile import MAX_BYTES, ProjectError, read_text as _read  # noqa: F401 - ProjectError is raised to callers

COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")  # Compose v2's order
MAX_NODES = 200_000  # YAML aliases can make a small file huge when walked


@dataclass(frozen=True)
class ServiceMount:
    service: str
    raw: str
    type: str  # volume | bind | anonymous | tmpfs
    source: str  # the volume key, or the host path as written
    target: str
    read_only: bool = False
    host_path: str = ""  # a bind's source, made absolute against the project folder


@dataclass(frozen=True)
class Service:
    name: str
    image: str = ""
    user: str = ""
    build_context: Optional[str] = None
    dockerfile: Optional[str] = None  # absolute path, when the service builds
    mounts: tuple[ServiceMount, ...] = ()


@dataclass(frozen=True)
class VolumeDecl:
    key: str
    external: bool = False
    name: Optional[str] = None  # the `name:` given (or external's), interpolated






@dataclass(frozen=True)
class Project:
    dir: str
    compose_file: Optional[str] = None
    top_name: Optional[str] = None  # the compose file's `name:` (Compose v2 only)
    env: Mapping[str, str] = field(default_factory=dict)  # the shell's environment over .env
    services: tuple[Service, ...] = ()
    volumes: tuple[VolumeDecl, ...] = ()
    dockerfiles: tuple[Dockerfile, ...] = ()
    flavor: str = "v2"  # the Compose installed here: v1 (docker-compose 1.x) or v2
    host: Mapping[str, dict] = field(default_factory=dict)  # bind folders (and ./KEY folders) as found on this machine

    def name(self, flavor: Optional[str] = None, flag: Optional[str] = None) -> str:
        return compose.project_name(os.path.basename(os.path.abspath(self.dir)), flag=flag, env=self.env,
                                    top_name=self.top_name, flavor=flavor or self.flavor).name

    def declared(self, key: str) -> Optional[VolumeDecl]:
        return next((v for v in self.volumes if v.key == key), None)

    def volume_name(self, decl: VolumeDecl, project: str, flavor: Optional[str] = None, state=None) -> str:
        """The real name of a declared volume; with Compose v1, the pre-1.21
        name when such a volume exists on the daemon (v1 keeps using it)."""
        flavor = flavor or self.flavor
        raw = {"external": decl.external, "name": decl.name} if decl.name or decl.external else {}
        real = compose.volume_name(project, decl.key, raw, flavor)
        if flavor == "v1" and not decl.name and not decl.external and state is not None:
            legacy = compose.legacy_volume_name(project, decl.key)
            if legacy != real and state.volume(legacy) is not None:
                return legacy
        return real


# ------------------------------------------------------------ finding it


def find_compose(folder: Path) -> Optional[Path]:
    for n in COMPOSE_FILES:
        if (folder / n).is_file():
            return folder / n
    return None


def is_project(folder: Path) -> bool:
    return find_compose(folder) is not None or (folder / "Dockerfile").is_file()


def installed_flavor(env: Mapping[str, str] = os.environ) -> str:
    """v2 when the docker CLI has its compose plugin, v1 when only docker-compose is here."""
    import shutil

    dirs = [Path(env.get("DOCKER_CONFIG") or Path.home() / ".docker") / "cli-plugins", Path("/usr/local/lib/docker/cli-plugins"),
            Path("/usr/libexec/docker/cli-plugins"), Path("/usr/lib/docker/cli-plugins")]
    if any((d / "docker-compose").exists() for d in dirs):
        return "v2"
    return "v1" if shutil.which("docker-compose") else "v2"


def load(folder: Optional[str] = None, compose_file: Optional[str] = None, *, env: Optional[Mapping[str, str]] = None,
         env_file: Optional[str] = None, flavor: Optional[str] = None) -> Project:
    """Read a project folder (the compose file's folder when only a file is given)."""
    shell = dict(os.environ if env is None else env)
    if compose_file:
        cf = Path(compose_file)
        if not cf.is_file():
            raise ProjectError(f"{compose_file}: no such compose file")
        cf = cf.resolve()
        base = Path(folder) if folder else cf.resolve().parent
    else:
        base = Path(folder or ".")
        if not base.is_dir():
            raise ProjectError(f"{folder}: not a folder")
        cf = find_compose(base.resolve())
    dotenv: dict[str, str] = {}
    envp = Path(env_file) if env_file else base / ".env"
    if envp.is_file():
        dotenv = compose.parse_env(_read(envp))
    merged = {**dotenv, **shell}
    flav = flavor or installed_flavor(shell)
    services: list[Service] = []
    volumes: list[VolumeDecl] = []
    top_name = None
    if cf is not None:
        data = _yaml(cf)
        top_name, services, volumes = _compose(cf, data, merged, base)
    dockerfiles = []
    seen = set()
    for s in services:
        if s.dockerfile and s.dockerfile not in seen and Path(s.dockerfile).is_file():
            seen.add(s.dockerfile)
            dockerfiles.append(read_dockerfile(s.dockerfile))
    own = str((base / "Dockerfile").resolve())
    if own not in seen and (base / "Dockerfile").is_file():
        dockerfiles.append(read_dockerfile(own))
    paths = {m.host_path for s in services for m in s.mounts if m.type == "bind"}
    paths |= {os.path.join(str(base.resolve()), m.source) for s in services for m in s.mounts if m.type == "volume"}
    return Project(dir=str(base.resolve()), compose_file=str(cf) if cf else None, top_name=top_name, env=merged,
                   services=tuple(services), volumes=tuple(volumes), dockerfiles=tuple(dockerfiles), flavor=flav,
                   host={p: host_stat(p) for p in sorted(paths)[:50]})


def host_stat(path: str) -> dict:
    """What a bind mount's host folder is like: exists, owner, mode, empty, its parent's owner."""
    import stat as st_

    try:
        s = os.stat(path)
    except OSError:
        return {"exists": False}
    out = {"exists": True, "is_dir": st_.S_ISDIR(s.st_mode), "uid": s.st_uid, "gid": s.st_gid,
           "mode": st_.S_IMODE(s.st_mode), "empty": None, "parent_uid": None}
    if out["is_dir"]:
        try:
            with os.scandir(path) as it:
                out["empty"] = next(it, None) is None
        except OSError:
            pass
    try:
        out["parent_uid"] = os.stat(os.path.dirname(path.rstrip("/")) or "/").st_uid
    except OSError:
        pass
    return out


def _yaml(p: Path):
    import yaml

    text = _read(p)
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        what = " ".join(x for x in (e.context, e.problem) if x)
        raise ProjectError(f"{p}{where}: not valid YAML: {what}".replace("\n", " ")) from None
    except yaml.YAMLError as e:
        raise ProjectError(f"{p}: not valid YAML: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    except RecursionError:
        raise ProjectError(f"{p}: nested too deeply to be a compose file") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProjectError(f"{p}: a compose file is a mapping (services:, volumes:, ...), not a {_kind(data)}")
    _count(p, data)
    return data


def _count(p: Path, data) -> None:
    n, stack = 0, [data]
    while stack:
        x = stack.pop()
        n += 1
        if n > MAX_NODES:
            raise ProjectError(f"{p}: too many values once YAML aliases are expanded (over {MAX_NODES}); not read")
        if isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)


def _kind(x) -> str:
    return {dict: "mapping", list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(x), type(x).__name__)


def _compose(cf: Path, data: dict, env: Mapping[str, str], base: Path):
    where = f"{cf}: "
    try:
        data = compose.interpolate_tree(data, env, where)
    except compose.ComposeError as e:
        raise ProjectError(str(e)) from None
    top_name = data.get("name")
    if top_name is not None and not isinstance(top_name, str):
        raise ProjectError(f"{where}name: must be a string, not a {_kind(top_name)}")
    raw_services = data.get("services")
    if raw_services is None and "version" not in data and any(isinstance(v, dict) and ("image" in v or "build" in v)
                                                             for v in data.values()):
        raise ProjectError(f"{where}services are not under a 'services:' key (the old version-1 format is not "
                           "read by Compose any more)")
    raw_services = raw_services or {}
    if not isinstance(raw_services, dict):
        raise ProjectError(f"{where}services: must be a mapping of service names, not a {_kind(raw_services)}")
    raw_vols = data.get("volumes") or {}
    if not isinstance(raw_vols, dict):
        raise ProjectError(f"{where}volumes: (top level) must be a mapping of volume names, not a {_kind(raw_vols)}")
    volumes = []
    for key, decl in raw_vols.items():
        key = str(key)
        if decl is not None and not isinstance(decl, dict):
            raise ProjectError(f"{where}volumes.{key}: must be a mapping (or empty), not a {_kind(decl)}")
        decl = decl or {}
        ext = decl.get("external")
        name = decl.get("name")
        if isinstance(ext, dict):
            name = ext.get("name") or name
        if name is not None and not isinstance(name, (str, int)):
            raise ProjectError(f"{where}volumes.{key}.name: must be a string, not a {_kind(name)}")
        volumes.append(VolumeDecl(key, external=bool(ext), name=str(name) if name is not None else None))
    services = []
    for sname, sdef in raw_services.items():
        sname = str(sname)
        if sdef is None:
            sdef = {}
        if not isinstance(sdef, dict):
            raise ProjectError(f"{where}services.{sname}: must be a mapping, not a {_kind(sdef)}")
        mounts = []
        vols = sdef.get("volumes") or []
        if not isinstance(vols, list):
            raise ProjectError(f"{where}services.{sname}.volumes: must be a list, not a {_kind(vols)}")
        for i, v in enumerate(vols):
            mounts.append(_mount(f"{where}services.{sname}.volumes[{i}]", sname, v, base))
        build = sdef.get("build")
        ctx = dockerfile = None
        if isinstance(build, str):
            ctx, dockerfile = build, "Dockerfile"
        elif isinstance(build, dict):
            ctx, dockerfile = str(build.get("context") or "."), str(build.get("dockerfile") or "Dockerfile")
        elif build is not None:
            raise ProjectError(f"{where}services.{sname}.build: must be a path or a mapping, not a {_kind(build)}")
        if ctx is not None:
            ctx = str((base / ctx).resolve()) if not ctx.startswith(("http://", "https://", "git@")) else None
            dockerfile = str(Path(ctx) / dockerfile) if ctx else None
        user = sdef.get("user")
        services.append(Service(sname, image=str(sdef.get("image") or ""), user=str(user) if user is not None else "",
                                build_context=ctx, dockerfile=dockerfile, mounts=tuple(mounts)))
    return top_name, services, volumes


def _mount(where: str, service: str, v, base: Path) -> ServiceMount:
    if isinstance(v, str):
        parts = v.split(":")
        if len(parts) == 1:
            return ServiceMount(service, v, "anonymous", "", v)
        if len(parts) > 3 and not re.match(r"^[A-Za-z]:", v):
            raise ProjectError(f"{where}: {v!r} has too many ':'; the form is SOURCE:TARGET[:MODE]")
        if re.match(r"^[A-Za-z]:[\\/]", v):  # C:\x:/y
            src, target, *mode = [v[:2] + parts[1]] + parts[2:]
        else:
            src, target, *mode = parts
        ro = bool(mode) and "ro" in mode[0].split(",")
        if not target.startswith("/"):
            raise ProjectError(f"{where}: {v!r}: the container path must be absolute (start with '/')")
        if src.startswith((".", "/", "~")) or re.match(r"^[A-Za-z]:", src):
            return ServiceMount(service, v, "bind", src, target, ro, _host(src, base))
        return ServiceMount(service, v, "volume", src, target, ro)
    if isinstance(v, dict):
        t = str(v.get("type") or "volume")
        src = v.get("source")
        target = v.get("target")
        if not isinstance(target, str) or not target:
            raise ProjectError(f"{where}: the long form needs target: PATH")
        ro = bool(v.get("read_only"))
        if t == "bind":
            if not isinstance(src, str) or not src:
                raise ProjectError(f"{where}: a bind mount needs source: PATH")
            return ServiceMount(service, json.dumps(v), "bind", src, target, ro, _host(src, base))
        if t == "volume":
            if src:
                return ServiceMount(service, json.dumps(v), "volume", str(src), target, ro)
            return ServiceMount(service, json.dumps(v), "anonymous", "", target, ro)
        return ServiceMount(service, json.dumps(v), t, str(src or ""), target, ro)
    raise ProjectError(f"{where}: a volume entry is a string (SOURCE:TARGET) or a mapping, not a {_kind(v)}")


def _host(src: str, base: Path) -> str:
    if src.startswith("~"):
        return os.path.expanduser(src)
    return os.path.normpath(str(base.resolve() / src)) if not src.startswith("/") else os.path.normpath(src)


# ------------------------------------------------------------ Dockerfile















# ------------------------------------------------------------ for a question


def locate(folder: Optional[str], compose_file: Optional[str], cwd: Optional[str] = None) -> Optional[tuple[Optional[str], Optional[str]]]:
    """Which project a question is about: --project/--compose-file, else the
    current folder when it holds a compose file or a Dockerfile."""
    if folder or compose_file:
        return folder, compose_file
    here = Path(cwd or ".")
    return (str(here), None) if is_project(here) else None


def for_question(text: str, folder: Optional[str], compose_file: Optional[str], *,
                 cwd: Optional[str] = None, env: Optional[Mapping[str, str]] = None) -> Optional[Project]:
    """The project to read for a question: a pasted compose command's own
    -f / --project-directory / --env-file first, then the flags, then the
    current folder. Raises ProjectError for a file that cannot be read."""
    from voldoctor import deletes

    cmd = deletes.parse(text) if text else None
    if cmd is not None and cmd.kind.startswith("compose-"):
        flavor = "v1" if cmd.compose_v1 else "v2"
        base = Path(cwd or ".")
        if cmd.files or cmd.project_directory:
            f = str(base / cmd.files[0]) if cmd.files else compose_file
            d = str(base / cmd.project_directory) if cmd.project_directory else folder
            return load(d, f, env=env, env_file=cmd.env_file, flavor=flavor)
        where = locate(folder, compose_file, cwd)
        if where is None:
            return None
        return load(where[0], where[1], env=env, env_file=cmd.env_file, flavor=flavor)
    where = locate(folder, compose_file, cwd)
    if where is None:
        return None
    return load(where[0], where[1], env=env)
