"""Fix lines are commands that work on the state they were written for.

Every complete docker command in a diagnosis's fix lines (not a template
with '...' or a CAPITALISED placeholder) is checked against the live daemon:
read-only ones and creations are run for real and must succeed; the ones that
remove or stop things are checked for names that exist, not run."""

from __future__ import annotations

import os
import re
import shlex
import subprocess

from voldoctor import commandline

PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_]{3,}\b|\.\.\.|/path/to/")
NOT_RUN = ("rm", "stop", "prune", "pull", "exec", "kill", "restart", "login", "context", "builder", "image")


def command_of(line: str) -> str | None:
    i = line.find("docker ")
    if i < 0:
        return None
    guard = line.find(": ") + 2
    if 2 <= guard < i and line.startswith("test -", guard):  # 'test -f FILE && docker ...': the guard is the line's
        i = guard
    cmd = line[i:].split("   (")[0].strip()
    return None if PLACEHOLDER.search(cmd) else cmd


def _parts(cmd: str) -> list[str]:
    """The docker commands in a fix line, split at && and ; outside quotes."""
    out, cur, quote, i = [], "", None, 0
    while i < len(cmd):
        ch = cmd[i]
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif cmd.startswith("&&", i) or ch == ";":
            out.append(cur)
            cur, i = "", i + (2 if ch == "&" else 1)
            continue
        cur += ch
        i += 1
    out.append(cur)
    return [p.strip() for p in out if p.strip().startswith("docker ")]


def _not_run(words: list[str]) -> bool:
    verb = words[1] if len(words) > 1 else ""
    sub = words[2] if len(words) > 2 else ""
    return verb in NOT_RUN or (verb == "volume" and sub in ("rm", "prune")) or (verb == "system" and sub == "prune")


def check(fix: list[str], host: str, lab) -> list[str]:
    """Problems found with the fix lines (empty when they all hold). Whatever a
    fix creates is registered with the lab, so it is removed after the test."""
    problems = []
    for line in fix:
        cmd = command_of(line)
        if cmd is None:
            continue
        parts = _parts(cmd)
        # A line that stops or removes something is not run here (run_all runs it on a scenario's own
        # objects); its later parts (say, the run that recreates a container) depend on the removal.
        destructive = any(_not_run(shlex.split(p)) for p in parts)
        for part in parts:
            words = shlex.split(part)
            if destructive and not _not_run(words):
                continue
            verb = words[1] if len(words) > 1 else ""
            sub = words[2] if len(words) > 2 else ""
            if verb in NOT_RUN or (verb == "volume" and sub in ("rm", "prune")) or (verb == "system" and sub == "prune"):
                problems += _names_exist(words, lab.api)
                continue
            before_c = {c["Id"] for c in lab.api.containers(all=True)}
            before_v = {v["Name"] for v in (lab.api.volumes() or {}).get("Volumes") or []}
            env = {**os.environ, "DOCKER_HOST": host}
            p = subprocess.run(["sh", "-c", part], env=env, capture_output=True, text=True, timeout=60, cwd=lab.tmp)
            lab.containers += [c["Id"] for c in lab.api.containers(all=True) if c["Id"] not in before_c]
            lab.volumes += [v["Name"] for v in (lab.api.volumes() or {}).get("Volumes") or [] if v["Name"] not in before_v]
            if p.returncode != 0:
                problems.append(f"{part!r} failed: {p.stderr.strip()[:200]}")
    return problems


NEVER_RUN = ("pull", "login", "logout", "context", "builder", "image", "push")


def run_all(fix: list[str], host: str, lab) -> tuple[list[str], int]:
    """Run every complete docker command of the fix lines, in order, as
    printed: removals and stops too (they act on the scenario's own scratch
    objects). Returns the failures and how many lines ran."""
    problems, ran = [], 0
    # Volumes of the lab's containers (anonymous ones too) outlive a removal by a fix: the lab removes them.
    for cid in list(lab.containers):
        try:
            mounts = lab.api.inspect_container(cid)["Mounts"]
        except Exception:
            continue
        lab.volumes += [m["Name"] for m in mounts if m.get("Type") == "volume" and m["Name"] not in lab.volumes]
    for line in fix:
        cmd = command_of(line)
        if cmd is None:
            continue
        words = shlex.split(cmd)
        if len(words) > 1 and words[1] in NEVER_RUN or "prune" in words:
            continue
        env = {**os.environ, "DOCKER_HOST": host}
        if cmd.startswith("test -") and subprocess.run(["sh", "-c", cmd.split(" && ")[0]], cwd=lab.tmp).returncode:
            continue  # guarded: does nothing until what it waits for is there (as the learner would find)
        before_c = {c["Id"] for c in lab.api.containers(all=True)}
        before_v = {v["Name"] for v in (lab.api.volumes() or {}).get("Volumes") or []}
        p = subprocess.run(["sh", "-c", cmd], env=env, capture_output=True, text=True, timeout=90, cwd=lab.tmp)
        ran += 1
        lab.containers += [c["Id"] for c in lab.api.containers(all=True) if c["Id"] not in before_c]
        lab.volumes += [v["Name"] for v in (lab.api.volumes() or {}).get("Volumes") or [] if v["Name"] not in before_v]
        if p.returncode != 0:
            problems.append(f"{cmd!r} failed ({p.returncode}): {p.stderr.strip()[:300]}")
    return problems, ran


def corrected(fix: list[str]) -> str | None:
    """The first complete docker command the fix lines print (for a slip: the command as meant)."""
    return next((c for c in map(command_of, fix) if c), None)


def _names_exist(words: list[str], api) -> list[str]:
    names = [w for w in words[2:] if not w.startswith("-")]
    if words[1] == "volume":
        names = names[1:]
        have = {v["Name"] for v in (api.volumes() or {}).get("Volumes") or []}
    elif words[1] in ("rm", "stop", "exec", "kill", "restart"):
        have = {n.lstrip("/") for c in api.containers(all=True) for n in c["Names"]} | \
               {c["Id"][:12] for c in api.containers(all=True)}
        names = names[:1] if words[1] == "exec" else names
    else:
        return []
    return [f"{' '.join(words)!r} names {n!r}, which does not exist" for n in names if n not in have]


def parses(cmd: str) -> bool:
    pc = commandline.parse(cmd)
    return pc.error is None
