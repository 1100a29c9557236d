"""What a pasted docker command will do with data, in plain words, given the
daemon's state: part of how an answer is shown (command line and
conversation alike), so it lives with the presentation, not in the engine."""

from __future__ import annotations

from typing import Optional

from voldoctor.commandline import ParsedCommand
from voldoctor.state import DaemonState


def of(a) -> tuple[str, ...]:
    """The effects of an answer's pasted command (none when there is none)."""
    return command_effects(a.command, a.state)


def command_effects(cmd: Optional[ParsedCommand], state: Optional[DaemonState]) -> tuple[str, ...]:
    """What a pasted command will do with data, given the daemon's state."""
    if cmd is None or not cmd.ok:
        return ()
    seen = state is not None and state.reachable
    out = []
    if cmd.kind in ("run", "create"):
        for m in cmd.mounts:
            if m.problem:
                out.append(f"{m.flag} {m.raw}: Docker refuses it ({m.problem})")
            elif m.type == "volume":
                if seen and state.volume(m.source) is None:
                    out.append(f"{m.flag} {m.raw}: creates a new, empty volume {m.source} and mounts it at {m.target}")
                else:
                    out.append(f"{m.flag} {m.raw}: mounts the volume {m.source} at {m.target}" + (" (read-only)" if m.readonly else ""))
            elif m.type == "anonymous":
                out.append(f"{m.raw}: a new anonymous volume at {m.target}, not reused by any later run"
                           + ("; deleted with the container (--rm)" if cmd.rm else ""))
            elif m.type == "bind":
                missing = seen and state.local and m.source in state.missing_paths
                gone = (" (it does not exist: --mount refuses to start the container)" if m.flag == "--mount" else
                        " (it does not exist: Docker makes it, empty and owned by root)")
                out.append(f"{m.raw}: shows the host folder {m.source} at {m.target}" + (gone if missing else ""))
        if not cmd.mounts:
            out.append("no volume or host folder: whatever the container writes goes with it when it is removed")
        if cmd.rm:
            out.append("--rm: the container is deleted as soon as it stops")
    elif cmd.kind == "volume-rm":
        out += [f"there is no volume {v} here: it deletes nothing (Docker reports an error)" if seen
                and state.volume(v) is None else f"deletes the volume {v} and all the data in it, for good"
                for v in cmd.volumes]
    elif cmd.kind == "container-rm":
        out += [f"deletes the container {c}" + (" and its anonymous volumes (-v)" if cmd.rm else "")
                + "; its named volumes keep their data" for c in cmd.containers]
    elif cmd.kind == "volume-create":
        out += [f"creates an empty volume {v}" for v in cmd.volumes]
    return tuple(out)
