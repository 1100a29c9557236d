"""What a $(...) inside a pasted cleanup command prints on this daemon: the shell runs it first
and Docker removes whatever it lists ('docker volume rm $(docker volume ls -q)' is every volume).
Read for the commands learners paste this way, `docker volume ls -q` and `docker ps -q` with -a
and the filters dangling, status and name; any other is said to be unknown, never taken as empty."""

from __future__ import annotations

import shlex
from typing import Optional

from voldoctor.cleanup import SUB, DeleteCommand
from voldoctor.state import DaemonState

RUNNING = ("running", "paused", "restarting")


def expand(cmd: DeleteCommand, state: DaemonState) -> tuple[list[str], bool, list[str]]:
    """The names with each $(...) replaced by what it prints on this daemon; whether one could not
    be told, and notes that say so."""
    names, unknown, notes = [], False, []
    for n in cmd.names:
        if not n.startswith(SUB):
            names.append(n)
            continue
        inner = cmd.subs[int(n[len(SUB):])]
        got = listed(inner, state)
        if got is None:
            unknown = True
            notes.append(f"the shell runs '{inner}' first and Docker removes whatever it prints; I cannot tell what "
                         "that is, so more may go than listed here: run it alone first and look")
        else:
            names += got
            notes.append(f"'$({inner})' lists, on this daemon: " + (", ".join(got) or "nothing"))
    return names, unknown, notes


def listed(inner: str, state: DaemonState) -> Optional[list[str]]:
    """What `docker volume ls -q` or `docker ps -q` (with -a, and the filters dangling, status and name)
    prints on this daemon; None for any other command."""
    try:
        words = shlex.split(inner)
    except ValueError:
        return None
    words = [w for w in words if w.lower() != "sudo"]
    if len(words) < 2 or words[0] != "docker":
        return None
    verb = tuple(words[1:3])
    if verb in (("volume", "ls"), ("volume", "list")):
        kind, rest = "volume", words[3:]
    elif words[1] == "ps" or verb in (("container", "ls"), ("container", "list"), ("container", "ps")):
        kind, rest = "container", words[2:] if words[1] == "ps" else words[3:]
    else:
        return None
    flags, filters, i = set(), [], 0
    while i < len(rest):
        w = rest[i]
        if w in ("-f", "--filter"):
            filters.append(rest[i + 1] if i + 1 < len(rest) else "")
            i += 1
        elif w.startswith("--filter="):
            filters.append(w.split("=", 1)[1])
        elif w.startswith("-") and not w.startswith("--"):
            flags.update(w[1:])
        elif w in ("--all", "--quiet"):
            flags.add(w[2])
        else:
            return None  # a format or another option: the output is not a plain list of names
        i += 1
    if "q" not in flags:
        return None
    if kind == "volume":
        users = state.volume_users()
        out = [v.name for v in state.volumes]
        for f in filters:
            k, _, v = f.partition("=")
            if k == "dangling" and v in ("true", "1"):
                out = [n for n in out if n not in users]
            elif k == "name":
                out = [n for n in out if v in n]
            else:
                return None
        return out
    out = [c for c in state.containers if "a" in flags or c.state in RUNNING]
    for f in filters:
        k, _, v = f.partition("=")
        if k == "status":
            out = [c for c in state.containers if c.state == v]
        elif k == "name":
            out = [c for c in out if v in c.name]
        else:
            return None
    return [c.name for c in out]
