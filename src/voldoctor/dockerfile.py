"""A Dockerfile, read statically: its USER, its VOLUME lines, and for each
volume path whether it was prepared for that user and whether later lines
write into it (never built, never run)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from voldoctor.projectfile import ProjectError, read_text as _read

@dataclass(frozen=True)
class DockerVolume:
    """One path of a Dockerfile's VOLUME instruction, with what the file does around it."""

    path: str
    line: int
    user: str  # the USER the container runs as (the stage's last USER); '' is root
    prepared: bool  # made or chowned for that user (or opened to all) before the VOLUME line
    writes_after: tuple[str, ...]  # "line N: RUN ..." that write under the path after the VOLUME line
    insert_before: int = 0  # where a RUN that prepares the path goes: before the first USER above the VOLUME
    # (a RUN after it runs as that user and may not chown), else before the VOLUME line


@dataclass(frozen=True)
class Dockerfile:
    path: str
    user: str
    volumes: tuple[DockerVolume, ...]


WRITES = re.compile(r"(>|\btouch\b|\bcp\b|\bmv\b|\bmkdir\b|\btee\b|\becho\b|\bwget\b|\bcurl\b|\bgit\s+clone\b|"
                    r"\btar\b|\bunzip\b|\bln\b|\binstall\b|\bsed\s+-i\b|\bchown\b|\bchmod\b)")


def read_dockerfile(path: str) -> Dockerfile:
    p = Path(path)
    text = _read(p)
    instructions = _instructions(p, text)
    # only the last stage is the image that runs
    last_from = max((i for i, (_, k, _) in enumerate(instructions) if k == "FROM"), default=-1)
    stage = instructions[last_from + 1:] if last_from >= 0 else instructions
    user = ""
    for _, k, arg in stage:
        if k == "USER":
            user = arg.strip()
    vols = []
    for idx, (line, k, arg) in enumerate(stage):
        if k != "VOLUME":
            continue
        for path_ in _volume_paths(p, line, arg):
            before, after = stage[:idx], stage[idx + 1:]
            first_user = next((ln for ln, kk, _ in before if kk == "USER"), line)
            vols.append(DockerVolume(path_, line, user, _prepared(path_, user, before),
                                     tuple(f"line {ln}: RUN {a.strip()[:120]}" for ln, kk, a in after
                                           if kk == "RUN" and _mentions(a, path_) and WRITES.search(a)), first_user))
    return Dockerfile(str(p), user, tuple(vols))


def _instructions(p: Path, text: str) -> list[tuple[int, str, str]]:
    out = []
    buf, start = "", 0
    lines = text.splitlines()
    heredoc = None
    for n, raw in enumerate(lines, 1):
        if heredoc is not None:
            if raw.strip() == heredoc:
                heredoc = None
            continue
        s = raw.strip()
        if not buf and (not s or s.startswith("#")):
            continue
        if buf and s.startswith("#"):
            continue
        if not buf:
            start = n
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        buf += s
        m = re.match(r"^([A-Za-z]+)(\s+(.*))?$", buf)
        if not m:
            raise ProjectError(f"{p}:{start}:1: not a Dockerfile instruction: {buf[:60]!r}")
        kw = m.group(1).upper()
        if kw not in KNOWN:
            raise ProjectError(f"{p}:{start}:1: unknown instruction {m.group(1)!r}")
        arg = m.group(3) or ""
        hd = re.search(r"<<-?[\"']?([A-Za-z_]+)[\"']?", arg)
        if hd and kw in ("RUN", "COPY"):
            heredoc = hd.group(1)
        out.append((start, kw, arg))
        buf = ""
    if buf:
        raise ProjectError(f"{p}:{start}:1: the last instruction ends with a line continuation ('\\') and nothing after")
    return out


KNOWN = {"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER",
         "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}


def _volume_paths(p: Path, line: int, arg: str) -> list[str]:
    arg = arg.strip()
    if arg.startswith("["):
        try:
            paths = json.loads(arg)
        except ValueError:
            raise ProjectError(f"{p}:{line}:1: VOLUME's JSON list cannot be read: {arg[:60]!r}") from None
        if not isinstance(paths, list) or not all(isinstance(x, str) for x in paths):
            raise ProjectError(f"{p}:{line}:1: VOLUME's JSON list must hold strings")
        return paths
    if not arg:
        raise ProjectError(f"{p}:{line}:1: VOLUME needs at least one path")
    return arg.split()


def _mentions(text: str, path: str) -> bool:
    path = path.rstrip("/") or "/"
    return re.search(re.escape(path) + r"(?=$|[/\s;&|'\")])", text) is not None


def _prepared(path: str, user: str, before: list[tuple[int, str, str]]) -> bool:
    """The path was made ready for the runtime user before VOLUME: chowned,
    opened to everyone, made by that user, or copied with --chown."""
    name = user.split(":")[0]
    if name in ("", "root", "0"):
        return True
    current = ""
    for _, k, arg in before:
        if k == "USER":
            current = arg.strip().split(":")[0]
        elif k == "RUN" and _mentions(arg, path):
            if re.search(r"\bchown\b", arg) or re.search(r"\bchmod\b[^;&|]*(777|a\+w|o\+w|\+w)", arg):
                return True
            if current not in ("", "root", "0") and re.search(r"\bmkdir\b", arg):
                return True
        elif k in ("COPY", "ADD") and "--chown" in arg and _mentions(arg, path):
            return True
    return False
