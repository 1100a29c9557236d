"""Pasted docker commands: `docker run`, `docker volume create|rm|inspect`,
`docker container rm`, parsed with shell quoting into what they will do with
data (mounts, names, ports, user, image).

Pure: the daemon's state is applied later, by probes. A command that cannot
be read becomes a ParsedCommand with `error` set, never an exception.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace
from typing import Optional

from voldoctor.mountspec import MountSpec, duplicates, mount_spec, volume_spec  # noqa: F401 - MountSpec is read here
from voldoctor.slips import PORT_SLIP, VERB_SLIPS, mount_slip

MAX_TOKENS = 2000
NO_COMMAND = "no docker command found"

# docker run options that take a value (so the image is the first bare word after them)
_VALUE_OPTS = {
    "-a", "--attach", "--add-host", "--annotation", "--blkio-weight", "--cap-add", "--cap-drop", "--cgroup-parent",
    "--cgroupns", "--cidfile", "--cpu-period", "--cpu-quota", "--cpu-shares", "-c", "--cpus", "--cpuset-cpus",
    "--cpuset-mems", "--device", "--device-cgroup-rule", "--dns", "--dns-option", "--dns-search", "--domainname",
    "--entrypoint", "-e", "--env", "--env-file", "--expose", "--gpus", "--group-add", "--health-cmd",
    "--health-interval", "--health-retries", "--health-start-period", "--health-timeout", "-h", "--hostname",
    "--ip", "--ip6", "--ipc", "--isolation", "--kernel-memory", "-l", "--label", "--label-file", "--link",
    "--log-driver", "--log-opt", "--mac-address", "-m", "--memory", "--memory-reservation", "--memory-swap",
    "--memory-swappiness", "--mount", "--name", "--network", "--net", "--network-alias", "--pid", "--pids-limit",
    "--platform", "-p", "--publish", "--pull", "--restart", "--runtime", "--security-opt", "--shm-size",
    "--stop-signal", "--stop-timeout", "--storage-opt", "--sysctl", "--tmpfs", "--ulimit", "-u", "--user",
    "--userns", "--uts", "-v", "--volume", "--volume-driver", "--volumes-from", "-w", "--workdir",
    "--driver", "-o", "--opt", "--format", "-f", "--filter",
}
_FLAG_OPTS_SHORT = set("diterPq")  # short flags that combine: -dit, -it, -d


@dataclass(frozen=True)
class ParsedCommand:
    raw: str
    kind: str = ""  # run | create | volume-create | volume-rm | volume-inspect | container-rm | ""
    image: str = ""
    name: str = ""
    user: str = ""
    rm: bool = False
    read_only: bool = False
    mounts: tuple[MountSpec, ...] = ()
    ports: tuple[tuple[Optional[int], str], ...] = ()  # (host port, container side)
    volumes: tuple[str, ...] = ()  # names given to docker volume create|rm|inspect
    containers: tuple[str, ...] = ()  # names given to docker container rm
    force: bool = False
    error: Optional[str] = None
    slips: tuple[str, ...] = ()  # slips of the pen docker would misread (a space for ':', 'rum' for 'run')
    corrected: tuple[str, ...] = ()  # the whole command as meant, one word an item (when there are slips)
    argv: tuple[str, ...] = ()  # run/create: the whole command as meant, one word an item (slips or not)
    args: tuple[str, ...] = ()  # run/create: the words after the image (its command, or its ENTRYPOINT's arguments)

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.kind)


# A command pasted inside a sentence ends where the sentence goes on.
PROSE = frozenset("says said but and fails failed gives gave returns returned then it is was with because error errors "
                  "shows showed doesnt doesn't won't wont not still so says: gives: -> => i but, which that keeps "
                  "does did command commands always never works worked "
                  # pronouns and determiners: "after docker rm my data was gone" is a sentence, not rm of 'my'
                  "my our your his her their the an this that these those all everything again agian now "
                  "too also everytime every when after before delete deletes deleting erase wipe lose exits exited "
                  "crashes crashed hangs dies died to for get got want wanted try tried trying".split())


def until_prose(toks: list[str]) -> list[str]:
    if toks and toks[0].endswith((",", ".", ";", "!", "?")):
        return []  # "after docker rm, my data was gone": the command named in a sentence
    for i, t in enumerate(toks):
        if i >= 1 and (t.lower().strip(",.;!?") in PROSE or (t.endswith(":") and not t.startswith("-") and i > 2)):
            if i == 1 or (i == 2 and toks[0].lower() in ("volume", "container")):
                return []  # "docker run says ...": words about a command, not a command
            return toks[:i]
        if i >= 1 and t.endswith((",", ";", "!", "?")) and not t.startswith("-"):
            return toks[:i] + [t.rstrip(",;!?")]  # "docker volume prune, can I get it back"
    return toks


DOCKER_LINE = re.compile(r"(?:^|[\s$>#;&|(`])(?:sudo\s+)?docker(?:\.exe)?\s+(run|create|volume|container|rm|"
                         + "|".join(VERB_SLIPS) + r")\b", re.IGNORECASE)


def find(text: str) -> Optional[str]:
    """The docker command inside a pasted text (a prompt, a sentence), if any;
    not words about one ("docker run says the name is taken")."""
    m = DOCKER_LINE.search(text)
    if not m:
        return None
    after = text[m.end():].split()
    if after and after[0].lower().strip(",.:") in PROSE:
        return None
    start = text.lower().index("docker", m.start())
    line = text[start:].split("\n", 1)[0]
    return line.strip()


def command_line(text: str) -> Optional[str]:
    """The pasted docker command in the text, if it is one (not words about docker)."""
    line = find(text)
    return line if line is not None and parse(line).error != NO_COMMAND else None


def words_around(text: str) -> str:
    """The text without its pasted docker command: what comes before it, what
    follows on other lines, and the words that go on after it on its own line
    ("docker run -v x:/data img fails with permission denied")."""
    line = command_line(text)
    if line is None:
        return text
    toks = line.split()
    kept = until_prose(toks[1:])
    tail = " ".join(toks[1 + len(kept):]) if kept else ""
    return text.replace(line, " " + tail + " ", 1)


def _words(line: str) -> list[str]:
    lex = shlex.shlex(line, posix=True)
    lex.whitespace_split, lex.escape, lex.commenters = True, "", ""  # Windows paths keep their backslashes
    return list(lex)


def parse(text: str) -> ParsedCommand:
    line = find(text)
    if line is None:
        return ParsedCommand(raw=text[:200], error=NO_COMMAND)
    line = line.replace("\\\n", " ")
    try:
        toks = _words(line)
    except ValueError as e:
        # "docker run ... fails: can't create": the quote belongs to the words after the command
        cut = line.rfind("'")
        try:
            if not (0 < cut < len(line) - 1 and line[cut - 1].isalpha() and line[cut + 1].isalpha()):
                raise  # an apostrophe in a word ("can't") is prose; any other quote left open is the command's
            toks = _words(line[:cut])
        except ValueError:
            return ParsedCommand(raw=line[:500], error=f"I could not read that command: {e} (unbalanced quotes?)")
    if len(toks) > MAX_TOKENS:
        return ParsedCommand(raw=line[:500], error=f"I could not read that command: it has {len(toks)} words")
    toks = until_prose(toks[1:])  # after 'docker'
    if not toks:
        return ParsedCommand(raw=line, error=NO_COMMAND)
    verb = toks[0].lower()
    slip = ()
    if verb in VERB_SLIPS:
        slip = (f"'docker {toks[0]}' is not a docker command, so docker stops before doing anything: "
                f"you meant 'docker {VERB_SLIPS[verb]}'",)
        verb = VERB_SLIPS[verb]
        toks = [verb, *toks[1:]]
    if verb == "container" and len(toks) > 1:
        sub = toks[1].lower()
        if sub in VERB_SLIPS and VERB_SLIPS[sub] in ("run", "create"):
            slip += (f"'docker container {toks[1]}' is not a docker command: you meant "
                     f"'docker container {VERB_SLIPS[sub]}'",)
            sub = VERB_SLIPS[sub]
            toks = [toks[0], sub, *toks[2:]]
        if sub in ("run", "create"):
            return _run(line, sub, toks[2:], toks[:2], slip)
        if sub in ("rm", "remove"):
            return _container_rm(line, toks[2:])
        return ParsedCommand(raw=line, error=f"voldoctor reads 'docker container rm|run', not 'container {sub}'")
    if verb in ("run", "create"):
        return _run(line, verb, toks[1:], toks[:1], slip)
    if verb == "rm":
        return _container_rm(line, toks[1:])
    if verb == "volume":
        pc = _volume(line, toks[1:])
        return replace(pc, slips=slip, corrected=("docker", *toks)) if slip and pc.ok else pc
    return ParsedCommand(raw=line, error=f"voldoctor does not read 'docker {verb}' commands")


def _container_rm(line: str, args: list[str]) -> ParsedCommand:
    args = args[:next((i for i, a in enumerate(args) if a.startswith("(")), len(args))]  # "(data in /x)": an aside
    names = tuple(a for a in args if not a.startswith("-"))
    force = any(a in ("-f", "--force") or (a.startswith("-") and not a.startswith("--") and "f" in a) for a in args)
    vols = any(a in ("-v", "--volumes") or (a.startswith("-") and not a.startswith("--") and "v" in a) for a in args)
    return ParsedCommand(raw=line, kind="container-rm", containers=names, force=force, rm=vols)


def _volume(line: str, args: list[str]) -> ParsedCommand:
    if not args:
        return ParsedCommand(raw=line, error="'docker volume' needs a subcommand (create, ls, inspect, rm)")
    sub = args[0].lower()
    rest = []
    skip = False
    force = False
    for i, a in enumerate(args[1:]):
        if skip:
            skip = False
            continue
        if a in ("-f", "--force"):
            force = True
            continue
        if a.startswith("-"):
            skip = "=" not in a and a in ("-d", "--driver", "-o", "--opt", "--label", "--name", "-f", "--format")
            if a == "--name":
                skip = False
            continue
        rest.append(a)
    kinds = {"create": "volume-create", "rm": "volume-rm", "remove": "volume-rm", "inspect": "volume-inspect"}
    if sub not in kinds:
        return ParsedCommand(raw=line, error=f"voldoctor reads 'docker volume create|rm|inspect', not '{sub}'")
    return ParsedCommand(raw=line, kind=kinds[sub], volumes=tuple(rest), force=force)


def _split_opt(args: list[str], i: int) -> tuple[str, Optional[str], int]:
    """Option name, its value (or None for a flag), and the next index."""
    a = args[i]
    if a.startswith("--"):
        if "=" in a:
            k, v = a.split("=", 1)
            return k, v, i + 1
        if a in _VALUE_OPTS:
            return a, (args[i + 1] if i + 1 < len(args) else ""), i + 2
        return a, None, i + 1
    # short options: -v x, -vx? (docker allows -v=x too), combined flags -dit
    if len(a) > 2 and a[:2] in _VALUE_OPTS and a[2] == "=":
        return a[:2], a[3:], i + 1
    if len(a) > 2 and all(ch in _FLAG_OPTS_SHORT for ch in a[1:]):
        return a, None, i + 1
    if len(a) > 2 and a[:2] in _VALUE_OPTS:
        return a[:2], a[2:], i + 1
    if a in _VALUE_OPTS:
        return a, (args[i + 1] if i + 1 < len(args) else ""), i + 2
    return a, None, i + 1


def _run(line: str, verb: str, args: list[str], head: list[str] = (), slips: tuple[str, ...] = ()) -> ParsedCommand:
    mounts: list[MountSpec] = []
    ports: list[tuple[Optional[int], str]] = []
    name = user = image = ""
    rm = ro = False
    fixed: list[str] = ["docker", *head]
    slips = list(slips)
    i = 0
    while i < len(args):
        a = args[i]
        if not a.startswith("-") or a == "-":
            image = a
            break
        if a == "--":
            image = args[i + 1] if i + 1 < len(args) else ""
            break
        start = i
        k, v, i = _split_opt(args, i)
        fixed += args[start:i]
        if k in ("-v", "--volume"):
            slip = mount_slip(v or "", args[i] if i < len(args) else None)
            if slip is not None:
                meant, why, took_next = slip
                slips.append(why)
                i += 1 if took_next else 0
                fixed[-1] = meant if fixed[-1] == v else f"{k}={meant}" if "=" in fixed[-1] else f"{k}{meant}"
                v = meant
            mounts.append(volume_spec(v or ""))
        elif k == "--mount":
            mounts.append(mount_spec(v or ""))
        elif k == "--tmpfs":
            mounts.append(MountSpec(raw=v or "", type="tmpfs", target=(v or "").split(":")[0], flag="--tmpfs"))
        elif k == "--name":
            name = v or ""
        elif k in ("-u", "--user"):
            user = v or ""
        elif k in ("-p", "--publish"):
            pm = PORT_SLIP.match(v or "")
            if pm:
                meant = f"{pm.group(1)}:{pm.group(2)}{pm.group(3) or ''}"
                slips.append(f"'-p {v}' needs ':' between the host port and the container port"
                             + (" (in a shell ';' even ends the command there)" if ";" in (v or "") else "")
                             + f": -p {meant}")
                fixed[-1] = fixed[-1].replace(v, meant)
                v = meant
            ports.append(_port(v or ""))
        elif k == "--rm":
            rm = True
        elif k == "--read-only":
            ro = True
        elif k.startswith("-") and not k.startswith("--") and len(k) > 2 and all(ch in _FLAG_OPTS_SHORT for ch in k[1:]):
            pass
    mounts = duplicates(mounts)
    err = None if image else "the command names no image"
    fixed += args[i:]
    return ParsedCommand(raw=line, kind=verb, image=image, name=name, user=user, rm=rm, read_only=ro,
                         mounts=tuple(mounts), ports=tuple(ports), error=err, slips=tuple(slips),
                         corrected=tuple(fixed) if slips else (), argv=tuple(fixed),
                         args=tuple(args[i + (2 if args[i:i + 1] == ["--"] else 1):]) if image else ())


def _port(spec: str) -> tuple[Optional[int], str]:
    parts = spec.split(":")
    if len(parts) == 1:
        return None, parts[0]
    host = parts[-2]
    try:
        port = int(host.split("-")[0][:6])
    except ValueError:
        return None, parts[-1]
    return (port if 0 < port < 65536 else None), parts[-1]


# Words that say a pasted command already ran ("i did docker rm web and my notes are gone"):
# then the learner asks about its result, not what it would delete.
_RAN = re.compile(r"\b(?:i|we|i've|we've|i have|we have|had)\s+(?:just\s+|accidentally\s+|already\s+)?"
                  r"(?:did|ran|run|used|typed|executed|tried|done|removed|deleted|pruned)\b|\bafter\b|\bby mistake\b",
                  re.IGNORECASE)
_LOST = re.compile(r"\b(?:is|are|was|were|got|been|now)\s+(?:all\s+)?(?:gone|missing|empty|deleted|lost|wiped)\b|"
                   r"\b(?:lost|disappeared|vanished|wiped out)\b|\b(?:get|bring)\s+\w+(?:\s+\w+)?\s+back\b|"
                   r"\b(?:recover|restore|undo)\b", re.IGNORECASE)


_SAID = re.compile(r"\b(?:says|said|gives|gave|returns|returned|fails|failed|shows|showed|complains|refuses|"
                   r"refused|prints|printed|errors?)\b", re.IGNORECASE)


def told_after(text: str, line: str) -> bool:
    """The text tells of the command in `line` as done (or what Docker answered to it), not as a plan."""
    before = text[: text.find(line)] if line in text else ""
    return bool(_RAN.search(before) or _LOST.search(text) or _SAID.search(line))
