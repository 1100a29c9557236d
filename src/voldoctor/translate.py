"""The daemon's JSON, as the Engine API returns it, into frozen state values.

Pure: each function takes the decoded JSON of one answer and returns values;
unit tests feed them JSON captured from a real daemon.
"""

from __future__ import annotations

import re
from typing import Optional

from voldoctor.state import Container, ContainerDetail, DaemonInfo, Image, Mount, Port, Volume

INIT_ENV = re.compile(r"^(POSTGRES_(PASSWORD|USER|DB)|MYSQL_(ROOT_PASSWORD|PASSWORD|USER|DATABASE)|"
                      r"MARIADB_(ROOT_PASSWORD|PASSWORD|USER|DATABASE)|MONGO_INITDB_\w+|WORDPRESS_DB_\w+)$")


IGNORED_CHANGES = ("/tmp", "/run", "/var/run", "/dev", "/proc", "/sys", "/root/.ash_history", "/root/.bash_history",
                   "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/etc/mtab")


MAX_CHANGES = 200
# Set by the shell or the image, not by the learner: passing them again with -e would copy the host's value in.
HOST_ENV = re.compile(r"^(PATH|HOME|HOSTNAME|TERM|LANG|LC_\w+|USER|SHELL|PWD|\w+_VERSION|\w+_SHA256)$")


def _publish(bindings: dict) -> tuple[str, ...]:
    out = []
    for inside, hosts in sorted((bindings or {}).items()):
        port, _, proto = inside.partition("/")
        for h in hosts or [{}]:
            hp, ip = str(h.get("HostPort") or ""), str(h.get("HostIp") or "")
            spec = ":".join(x for x in (ip, hp) if x) + ":" + port if hp else port
            out.append(spec + ("" if proto in ("", "tcp") else "/" + proto))
    return tuple(out)


def info(ver: dict, info: dict) -> DaemonInfo:
    sec = " ".join(info.get("SecurityOptions") or [])
    os_name = str(info.get("OperatingSystem") or "")
    return DaemonInfo(
        server_version=str(ver.get("Version") or info.get("ServerVersion") or ""),
        api_version=str(ver.get("ApiVersion") or ""),
        os=os_name,
        kernel=str(info.get("KernelVersion") or ""),
        root_dir=str(info.get("DockerRootDir") or ""),
        storage_driver=str(info.get("Driver") or ""),
        rootless="rootless" in sec,
        desktop="Docker Desktop" in os_name or str(info.get("Name") or "") == "docker-desktop",
        name=str(info.get("Name") or ""),
        volume_drivers=tuple((info.get("Plugins") or {}).get("Volume") or ()),
    )


def volume(v: dict) -> Volume:
    return Volume(
        name=v.get("Name", ""),
        driver=v.get("Driver") or "local",
        mountpoint=v.get("Mountpoint") or "",
        created_at=v.get("CreatedAt") or "",
        labels={str(k): str(x) for k, x in (v.get("Labels") or {}).items()},
        scope=v.get("Scope") or "local",
    )


def container(c: dict, anon: frozenset | set = frozenset()) -> Container:
    names = c.get("Names") or []
    return Container(
        id=c["Id"],
        name=(names[0] if names else c["Id"][:12]).lstrip("/"),
        image=c.get("Image") or "",
        image_id=c.get("ImageID") or "",
        state=c.get("State") or "",
        status=c.get("Status") or "",
        created=int(c.get("Created") or 0),
        labels={str(k): str(x) for k, x in (c.get("Labels") or {}).items()},
        mounts=tuple(
            Mount(
                type=m.get("Type") or "volume",
                name=m.get("Name") or "",
                source=m.get("Source") or "",
                destination=m.get("Destination") or "",
                rw=bool(m.get("RW", True)),
                driver=m.get("Driver") or "",
                anon_label=(m.get("Name") or "") in anon,
            )
            for m in (c.get("Mounts") or [])
        ),
        ports=tuple(
            Port(private=int(p.get("PrivatePort") or 0), public=p.get("PublicPort"), ip=p.get("IP") or "",
                 proto=p.get("Type") or "tcp")
            for p in (c.get("Ports") or [])
        ),
    )


def detail(data: dict, passwd: Optional[str] = None, diff: Optional[list] = None) -> ContainerDetail:
    """GET /containers/ID/json (plus the image's passwd entry and /changes, when read)."""
    cfg = data.get("Config") or {}
    user = str(cfg.get("User") or "")
    env_names = tuple(sorted({e.split("=", 1)[0] for e in (cfg.get("Env") or []) if INIT_ENV.match(e.split("=", 1)[0])}))
    changes = None
    if diff is not None:
        changes = tuple(sorted(
            d["Path"] for d in diff
            if d.get("Kind") in (0, 1) and not any(d["Path"] == p or d["Path"].startswith(p + "/") for p in IGNORED_CHANGES)
        )[:MAX_CHANGES])
    hc = data.get("HostConfig") or {}
    names = [e.split("=", 1)[0] for e in (cfg.get("Env") or [])]
    return ContainerDetail(
        entrypoint=tuple(str(x) for x in (cfg.get("Entrypoint") or [])), cmd=tuple(str(x) for x in (cfg.get("Cmd") or [])),
        env_names=tuple(dict.fromkeys(n for n in names if n and not HOST_ENV.match(n))),
        publish=_publish(hc.get("PortBindings") or {}), network=str(hc.get("NetworkMode") or ""),
        user=user, image_volumes=tuple(sorted((cfg.get("Volumes") or {}).keys())), passwd=passwd,
        workdir=str(cfg.get("WorkingDir") or ""), auto_remove=bool(hc.get("AutoRemove")),
        init_env=env_names, changes=changes, read_only=bool(hc.get("ReadonlyRootfs")),
        tmpfs=tuple(f"{k}:{v}" if v else str(k) for k, v in sorted((hc.get("Tmpfs") or {}).items())),
        tty=bool(cfg.get("Tty")), interactive=bool(cfg.get("OpenStdin")),
        foreground=bool(cfg.get("AttachStdout") or cfg.get("AttachStderr")), restart=_restart(hc.get("RestartPolicy")),
        hostname="" if str(cfg.get("Hostname") or "") in ("", str(data.get("Id") or "")[:12]) else str(cfg["Hostname"]),
    )


def _restart(policy) -> str:
    name = str((policy or {}).get("Name") or "")
    if name in ("", "no"):
        return ""
    tries = (policy or {}).get("MaximumRetryCount") or 0
    return f"{name}:{tries}" if name == "on-failure" and tries else name


def passwd_entry(text: Optional[str], name: str) -> Optional[str]:
    """Only the entry in question: a snapshot carries no more of the image than it needs."""
    return next((ln for ln in (text or "").splitlines() if ln.split(":", 1)[0] == name), None)


def images(raw: list, inspected: dict[str, dict]) -> tuple[Image, ...]:
    """GET /images/json, with the VOLUME paths of the images inspected (by id)."""
    out = []
    seen = set()
    for i in raw:
        if i["Id"] in seen:
            continue
        seen.add(i["Id"])
        tags = tuple(t for t in (i.get("RepoTags") or []) if t != "<none>:<none>")
        data = inspected.get(i["Id"])
        config = (data.get("Config") or {}) if data else {}
        vols = tuple(sorted((config.get("Volumes") or {}).keys()))
        out.append(Image(id=i["Id"], tags=tags, volumes=vols, entrypoint=tuple(config.get("Entrypoint") or ())))
    return tuple(out)


def volume_sizes(df: dict) -> dict[str, int]:
    """GET /system/df: bytes per volume (-1 where the daemon did not say)."""
    return {v["Name"]: _size_of(v) for v in (df.get("Volumes") or [])}


def _size_of(v: dict) -> int:
    """0 is a real size (an empty volume); -1 or nothing is unknown."""
    size = (v.get("UsageData") or {}).get("Size")
    return -1 if size is None else int(size)
