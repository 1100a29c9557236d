"""`voldoctor demo`: the conversation on daemon states captured from a real
Docker daemon by the live tests, bundled with voldoctor. No daemon is asked,
so it works on a machine without Docker. It opens with the question the
state was captured for and then takes the learner's own messages (one per
line when stdin is not a terminal, as in the conversation)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from voldoctor.app import UsageError
from voldoctor.exits import Exit


@dataclass(frozen=True)
class Demo:
    name: str
    file: str
    about: str  # what the state shows, in a learner's words
    opening: tuple[str, ...]  # what the demo "learner" says first


DEMOS = (
    Demo("volume-not-found", "volume-typo.json",
         "the lab's volume my-data exists, and a learner asks for my_data", ("volume not found", "my_data")),
    Demo("permission-denied", "uid-mismatch.json",
         "a container running as uid 1000 writes to a volume owned by root", ("touch: /data/f: Permission denied",)),
    Demo("data-not-persisting", "path-mismatch.json",
         "the app writes to /app/data, but the volume is mounted at /app/date",
         ("data in /app/data is gone after docker rm",)),
    Demo("no-volume", "no-volume.json", "a container that was run without any volume",
         ("my data is gone after i removed the container vdt-bare",)),
    Demo("run-typo", "run-volume-typo.json", "my-data exists; a learner pastes a run command with my_data",
         ("docker run -d -p 8965:80 -v my_data:/app/data vdt-busybox:latest",)),
)


STAND_IN = "vdt-busybox:latest"


def states_dir() -> Path:
    return Path(__file__).resolve().parent / "demo_states"


def find(name: str) -> Demo:
    for d in DEMOS:
        if d.name == name:
            return d
    from voldoctor.rules import did_you_mean

    raise UsageError(f"no demo state {name!r}{did_you_mean(name, [d.name for d in DEMOS])}; "
                     "voldoctor demo --list shows them")


def load(d: Demo):
    from voldoctor.state import loads

    text = (states_dir() / d.file).read_text(encoding="utf-8")
    data = json.loads(text)
    return loads(json.dumps(data.get("state", data)), f"demo {d.name}")


def banner(d: Demo, state) -> str:
    return (f"voldoctor DEMO: no Docker daemon is asked. This is '{d.name}', a state captured from a real "
            f"Docker {state.info.server_version} daemon by voldoctor's tests: {d.about} "
            f"({len(state.volumes)} volume(s), {len(state.containers)} container(s)). "
            f"Talk to it as to your own daemon; /lab shows the lab's steps on it ({STAND_IN} stands in for the "
            "lab's image), /help for more. "
            "On your own machine run: voldoctor")


def run(args) -> int:
    from voldoctor import render, repl
    from voldoctor.app import load_rules
    from voldoctor.session import Session

    if args.list:
        for d in DEMOS:
            print(f"{d.name:<22} {d.about}")
        return int(Exit.OK)
    d = find(args.name) if args.name else DEMOS[0]
    state = load(d)
    s = Session(load_rules(args), lambda: (lambda plan: state), unicode=render.unicode_ok())
    from voldoctor.lab.hints import HintMemory

    from voldoctor.lab import loader as pack

    s.lab_hints = HintMemory(persist=False)  # a demo leaves nothing behind
    s.lab_pack = pack.load(image=STAND_IN)  # the captured states ran the tests' stand-in for the lab's image
    opening = "\n".join(f"> {render.safe(t)}\n{s.handle(t).text}" for t in d.opening)
    head = banner(d, state) + "\n" + opening
    if not sys.stdin.isatty():
        return repl.run_plain(s, head, sys.stdin, sys.stdout)
    import os

    return repl.run_tty(s, head, not (getattr(args, "no_color", False) or os.environ.get("NO_COLOR")))
