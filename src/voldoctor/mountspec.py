"""The value of one -v or --mount option, read into what it mounts where, and what is
wrong with how it is written (with the same mount written correctly)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from voldoctor.shellquote import Under

VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
WINDOWS_PATH = re.compile(r"^[A-Za-z]:(\\|/[^:]*:/)")  # C:\x or C:/x:/target (not the volume 'x:/target')
MODES = {"ro", "rw", "z", "Z", "shared", "slave", "private", "rshared", "rslave", "rprivate", "nocopy",
         "consistent", "cached", "delegated"}


@dataclass(frozen=True)
class MountSpec:
    raw: str
    type: str  # volume | bind | anonymous | tmpfs
    source: str = ""
    target: str = ""
    readonly: bool = False
    flag: str = "-v"  # -v or --mount
    problem: Optional[str] = None
    corrected: Optional[str] = None


# Where apps in images keep their data: a -v that starts with one and ends in a bare name is written backwards.
CONTAINER_DIRS = ("/var/lib/", "/var/www", "/app", "/data", "/srv", "/usr/share/", "/opt/", "/etc/", "/home/node",
                  "/bitnami/", "/config")


def volume_spec(spec: str) -> MountSpec:
    """One -v value: [SOURCE:]TARGET[:MODE], as the Linux daemon reads it."""
    raw = spec
    if WINDOWS_PATH.match(spec):
        # C:\Users\me\data:/app/data  -> a Windows path given to a Linux daemon
        drive, rest = spec[:2], spec[2:]
        parts = rest.split(":")
        src = drive + parts[0]
        target = parts[1] if len(parts) > 1 else ""
        fixed = "/" + drive[0].lower() + parts[0].replace("\\", "/")
        return MountSpec(raw, "bind", src, target, problem="a Windows path: the Linux daemon reads 'C' as a "
                         "volume name and the rest as the container path",
                         corrected=f"{fixed}:{target}" + (":" + parts[2] if len(parts) > 2 else "")
                         + "   (Git Bash/WSL form; in PowerShell use ${PWD}, in cmd %cd%)")
    parts = spec.split(":")
    if len(parts) == 1:
        t = parts[0]
        problem = None if t.startswith("/") else "the container path must be absolute (start with '/')"
        return MountSpec(raw, "anonymous", "", t, problem=problem, corrected=("/" + t.lstrip("./")) if problem else None)
    if len(parts) > 3:
        return MountSpec(raw, "volume", parts[0], parts[1], problem=f"too many ':' ({len(parts) - 1}); the form is "
                         "SOURCE:TARGET[:MODE]", corrected=":".join(parts[:2]) + (f":{parts[-1]}" if parts[-1] in MODES else ""))
    src, target = parts[0], parts[1]
    mode = parts[2] if len(parts) == 3 else ""
    ro = "ro" in mode.split(",")
    kind = "bind" if src.startswith(("/", ".", "~", "$")) else "volume"
    problem = corrected = None
    if len(parts) == 3 and (not mode or any(m not in MODES for m in mode.split(","))):
        bad = ",".join(m for m in mode.split(",") if m not in MODES) or "(empty)"
        problem = f"'{bad}' is not a mount mode (use ro, rw, z or Z)"
        corrected = f"{src}:{target}" + (f":{mode.rsplit(',', 1)[0]}" if "," in mode else "")
    elif not target.startswith("/") and src.startswith(CONTAINER_DIRS) and VOLUME_NAME.fullmatch(target):
        # -v /var/lib/shop:shop-db: a container's data folder first, a volume name after it
        problem = "the two sides are the wrong way round: the volume's name comes first, the container path after ':'"
        corrected = f"{target}:{src}" + (f":{mode}" if mode else "")
    elif not target.startswith("/"):
        problem = "the container path must be absolute (start with '/')"
        corrected = f"{src}:/{target.lstrip('./')}" + (f":{mode}" if mode else "")
    elif kind == "bind" and src.startswith((".", "~")):
        problem = ("a relative host path: older Docker reads it as a volume name; "
                   "use an absolute path")
        rest = f"{target}" + (f":{mode}" if mode else "")
        corrected = Under(f"{_below(src)}:{rest}", "$(pwd)") if src.startswith(".") else Under(f"{src[2:]}:{rest}", "$HOME")
    elif kind == "volume" and not VOLUME_NAME.fullmatch(src) and ("/" in src or src.startswith(".")):
        problem = "not a valid volume name (letters, digits, '_', '.', '-'); a host folder needs an absolute path"
        corrected = Under(f"{src}:{target}" + (f":{mode}" if mode else ""), "$(pwd)")
    elif kind == "volume" and not VOLUME_NAME.fullmatch(src):  # 'my notes': a name with a space, not a folder
        problem = "not a valid volume name: only letters, digits, '_', '.' and '-', starting with a letter or digit"
        named = re.sub(r"[^A-Za-z0-9_.-]+", "-", src).strip("-_.") or "my-data"
        corrected = f"{named}:{target}" + (f":{mode}" if mode else "")
    return MountSpec(raw, kind, src, target, ro, "-v", problem, corrected)


def _below(src: str) -> str:
    """A relative host path without its leading './' ('.' for the folder itself)."""
    return re.sub(r"^(\./)+", "", src).rstrip("/") or "."


def mount_spec(spec: str) -> MountSpec:
    kv = {}
    flags = set()
    for part in spec.split(","):
        if "=" in part:
            k, v = part.split("=", 1)
            kv[k.strip().lower()] = v.strip()
        elif part.strip():
            flags.add(part.strip().lower())
    t = kv.get("type", "volume")
    src = kv.get("source") or kv.get("src") or ""
    target = kv.get("target") or kv.get("destination") or kv.get("dst") or ""
    ro = "readonly" in flags or "ro" in flags or kv.get("readonly", "").lower() in ("1", "true") \
        or kv.get("ro", "").lower() in ("1", "true")
    kind = "anonymous" if t == "volume" and not src else t
    problem = corrected = None
    if not target:
        problem, corrected = "--mount needs target=PATH (or dst=PATH)", spec + ",target=/app/data"
    elif not target.startswith("/"):
        problem = "the target must be an absolute path"
        corrected = spec.replace(target, "/" + target.lstrip("./"))
    elif t == "bind" and not src.startswith("/"):
        problem = "a bind mount's source must be an absolute host path"
        at = spec.index(f"={src}") + 1
        corrected = Under(_below(src) + spec[at + len(src):], "$(pwd)", spec[:at])
    elif t not in ("volume", "bind", "tmpfs", "npipe", "cluster", "image"):
        problem = f"unknown mount type '{t}' (use volume, bind or tmpfs)"
    return MountSpec(spec, kind, src, target, ro, "--mount", problem, corrected)


def duplicates(mounts: list[MountSpec]) -> list[MountSpec]:
    seen: dict[str, int] = {}
    out = []
    for m in mounts:
        t = m.target.rstrip("/") or "/"
        if m.problem is None and t in seen:
            m = MountSpec(m.raw, m.type, m.source, m.target, m.readonly, m.flag,
                          problem=f"{m.target} is already a mount point in this command (Docker refuses duplicates)",
                          corrected="(drop one of the two, or mount it at another path)")
        seen.setdefault(t, len(out))
        out.append(m)
    return out

