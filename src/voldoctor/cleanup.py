"""Cleanup commands as a learner pastes them: `docker rm`, `container prune`,
`volume rm|prune`, `system prune`, `docker compose down|rm` (and
`docker-compose`), `docker run --rm`, read into a DeleteCommand. What they
would delete is worked out in voldoctor.deletes."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace
from typing import Optional

from voldoctor import commandline

FIND = re.compile(
    r"(?:^|[\s$>#;&|(`])(?:sudo\s+)?(docker-compose|docker(?:\.exe)?\s+compose|docker(?:\.exe)?\s+"
    r"(?:rm|run|container\s+(?:rm|remove|prune)|volume\s+(?:rm|remove|prune)|system\s+prune))\b",
    re.IGNORECASE)


@dataclass(frozen=True)
class DeleteCommand:
    raw: str
    kind: str  # rm | container-prune | volume-rm | volume-prune | system-prune | compose-down | compose-rm | run-rm
    force: bool = False
    volumes_flag: bool = False  # rm -v, compose down -v, compose rm -v, system prune --volumes
    all: bool = False  # volume prune -a, system prune -a
    stop: bool = False  # compose rm -s
    remove_orphans: bool = False
    names: tuple[str, ...] = ()  # containers (rm), volumes (volume rm), services (compose rm)
    filters: tuple[str, ...] = ()
    compose_v1: bool = False  # docker-compose rather than docker compose
    project_name: Optional[str] = None  # -p
    files: tuple[str, ...] = ()  # -f
    project_directory: Optional[str] = None
    env_file: Optional[str] = None
    run: Optional[commandline.ParsedCommand] = None
    subs: tuple[str, ...] = ()  # the commands inside $(...) or `...`; names holds SUB + their index


SUB = "\0sub"  # a name that stands for what the shell puts there: the output of subs[i]
_SUBST = re.compile(r"\$\(([^()]*)\)|`([^`]*)`")


def _substituted(line: str) -> tuple[str, tuple[str, ...]]:
    """The line with each $(...) or `...` as one word SUB<i>, and the commands inside."""
    subs: list[str] = []

    def one(m) -> str:
        subs.append((m.group(1) if m.group(1) is not None else m.group(2)).strip())
        return f" {SUB}{len(subs) - 1} "
    return _SUBST.sub(one, line), tuple(subs)


def already_ran(text: str) -> bool:
    """The text tells of a cleanup command that already ran (or what Docker answered to it),
    rather than asking what it would do."""
    line = find(text)
    return line is not None and commandline.told_after(text, line)



def find(text: str) -> Optional[str]:
    m = FIND.search(text)
    if not m:
        return None
    return text[m.start(1):].split("\n", 1)[0].strip()


_NAMEISH = re.compile(rf"(?:[A-Za-z0-9][A-Za-z0-9_.-]*|{re.escape(SUB)}\d+)$")  # a name, an id, or a $(...) list


def _short(a: str, letter: str) -> bool:
    return a.startswith("-") and not a.startswith("--") and letter in a[1:]


COMPOSE_VALUE_OPTS = {"-p", "--project-name", "-f", "--file", "--project-directory", "--env-file", "-H", "--host",
                      "--context", "-c", "--profile", "--ansi", "--log-level", "--parallel", "--progress"}


def parse(text: str) -> Optional[DeleteCommand]:
    """The cleanup command in a pasted text, or None when there is none (or
    it cannot be read: unbalanced quotes leave it to the general parser)."""
    line = find(text)
    if line is None:
        return None
    shown, (line, subs) = line, _substituted(line)
    cmd = _parse(line)
    if cmd is None or not subs:
        return cmd
    return replace(cmd, raw=shown, subs=subs)


def _parse(line: str) -> Optional[DeleteCommand]:
    try:
        lex = shlex.shlex(line, posix=True)
        lex.whitespace_split, lex.escape, lex.commenters = True, "", ""
        toks = list(lex)[: commandline.MAX_TOKENS]
    except ValueError:
        return None
    toks = [t for t in toks if t.lower() != "sudo"]
    if not toks:
        return None
    head = toks[0].lower().removesuffix(".exe")
    if head == "docker-compose":
        return _compose(line, toks[1:], v1=True)
    rest = toks[1:]
    if rest and rest[0].lower() not in ("compose", "run"):
        kept = commandline.until_prose(rest)  # "after docker rm my data was gone" names no container 'my'
        kept = kept[:next((i for i, t in enumerate(kept) if t.startswith("(")), len(kept))]  # "(data in /x)": an aside
        line, rest = (shlex.join([toks[0], *kept]) if kept != rest else line), kept
    if not rest:
        return None
    verb = rest[0].lower()
    if verb == "compose":
        return _compose(line, rest[1:], v1=False)
    if verb == "run":
        cmd = commandline.parse(line)
        if not cmd.ok or not cmd.rm:
            return None
        return DeleteCommand(raw=line, kind="run-rm", run=cmd, names=(cmd.name,) if cmd.name else ())
    sub = rest[1].lower() if len(rest) > 1 else ""
    if verb == "rm" or (verb == "container" and sub in ("rm", "remove")):
        args = rest[1:] if verb == "rm" else rest[2:]
        return DeleteCommand(raw=line, kind="rm", names=tuple(a for a in args if not a.startswith("-") and _NAMEISH.match(a)),
                             force=any(a == "--force" or _short(a, "f") for a in args),
                             volumes_flag=any(a == "--volumes" or _short(a, "v") for a in args))
    args = rest[2:]
    opts, words = _options(args, {"--filter"})
    force = "-f" in opts or "--force" in opts
    filters = tuple(v for k, v in opts.items() if k == "--filter" for v in v)
    if verb == "container" and sub == "prune":
        return DeleteCommand(raw=line, kind="container-prune", force=force, filters=filters)
    if verb == "volume" and sub in ("rm", "remove"):
        return DeleteCommand(raw=line, kind="volume-rm", force=force, names=tuple(words))
    if verb == "volume" and sub == "prune":
        return DeleteCommand(raw=line, kind="volume-prune", force=force, all="-a" in opts or "--all" in opts,
                             filters=filters)
    if verb == "system" and sub == "prune":
        return DeleteCommand(raw=line, kind="system-prune", force=force, all="-a" in opts or "--all" in opts,
                             volumes_flag="--volumes" in opts, filters=filters)
    return None


def _options(args: list[str], valued: set[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Options (combined short flags split: -af is -a and -f) and bare words."""
    opts: dict[str, list[str]] = {}
    words: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("--"):
            k, eq, v = a.partition("=")
            if k in valued and not eq:
                v, i = (args[i + 1] if i + 1 < len(args) else ""), i + 1
            opts.setdefault(k, []).append(v)
        elif a.startswith("-") and len(a) > 1:
            if a[:2] in valued:
                v = a[2:].lstrip("=") or (args[i + 1] if i + 1 < len(args) else "")
                i += 0 if a[2:] else 1
                opts.setdefault(a[:2], []).append(v)
            else:
                for ch in a[1:]:
                    opts.setdefault("-" + ch, []).append("")
        else:
            words.append(a)
        i += 1
    return opts, words


def _compose(line: str, args: list[str], v1: bool) -> Optional[DeleteCommand]:
    glob: dict[str, list[str]] = {}
    i = 0
    while i < len(args) and args[i].startswith("-"):
        k, eq, v = args[i].partition("=")
        if k in COMPOSE_VALUE_OPTS and not eq:
            v = args[i + 1] if i + 1 < len(args) else ""
            i += 1
        glob.setdefault(k, []).append(v)
        i += 1
    if i >= len(args):
        return None
    verb, rest = args[i].lower(), args[i + 1:]
    common = dict(
        raw=line, compose_v1=v1,
        project_name=(glob.get("-p") or glob.get("--project-name") or [None])[-1],
        files=tuple(glob.get("-f", []) + glob.get("--file", [])),
        project_directory=(glob.get("--project-directory") or [None])[-1],
        env_file=(glob.get("--env-file") or [None])[-1],
    )
    if verb == "down":
        opts, _ = _options(rest, {"--rmi", "-t", "--timeout"})
        return DeleteCommand(kind="compose-down", volumes_flag="-v" in opts or "--volumes" in opts,
                             remove_orphans="--remove-orphans" in opts, **common)
    if verb == "rm":
        opts, words = _options(rest, set())
        return DeleteCommand(kind="compose-rm", force="-f" in opts or "--force" in opts,
                             stop="-s" in opts or "--stop" in opts, volumes_flag="-v" in opts or "--volumes" in opts,
                             names=tuple(words), **common)
    return None
