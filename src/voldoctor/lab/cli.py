"""`voldoctor lab`, `lab hint` and `lab lint`: the command-line side of lab packs."""

from __future__ import annotations

import argparse

import sys

from voldoctor.app import UsageError, load_rules, state_source
from voldoctor.exits import Exit


def add_parsers(sub, common) -> None:
    lab = sub.add_parser("lab", help="where you are in the lab: each step done, todo or broken")
    common(lab)

    def pack_options(p, json=True):
        p.add_argument("--pack", metavar="FILE", help="a lab pack (default: the module's own lab)")
        p.add_argument("--image", help="the image the lab runs (default: the pack's)")
        if json:
            p.add_argument("--json", action="store_true", help="print one JSON object")

    pack_options(lab)
    lsub = lab.add_subparsers(dest="lab_cmd", parser_class=type(lab))
    h = lsub.add_parser("hint", help="the next hint for the step you are at (ask again for a bigger one)")
    common(h)
    pack_options(h)
    h.add_argument("--reset", action="store_true", help="start this step's hints over")
    # 'lab --image X hint' and 'lab hint --image X' alike: an option left out after 'hint' keeps its value from before
    shared = {a.dest for a in lab._actions}
    for a in h._actions:
        if a.dest in shared and a.option_strings and a.dest != "help":
            a.default = argparse.SUPPRESS
    li = lsub.add_parser("lint", help="check a lab pack (exit 2 when invalid)")
    common(li)
    li.add_argument("file", metavar="FILE")


def load_pack(args):
    from voldoctor.lab.loader import PackError, load

    try:
        return load(getattr(args, "pack", None), image=getattr(args, "image", None))
    except PackError as e:
        extra = f" (and {len(e.problems) - 1} more; see 'voldoctor lab lint')" if len(e.problems) > 1 else ""
        raise UsageError(e.problems[0] + extra) from None


def run(args) -> int:
    if getattr(args, "lab_cmd", None) == "lint":
        return lint(args.file)
    from voldoctor import render
    from voldoctor.lab import hints
    from voldoctor.lab.run import progress

    pack = load_pack(args)
    rules = load_rules(args)
    memory = hints.HintMemory()
    p, state = progress(pack, state_source(args), rules, memory=memory, timeout=args.timeout)
    try:
        return _show(args, p, state, memory)
    finally:
        for w in memory.warnings:
            print(f"voldoctor: {render.safe(w)}", file=sys.stderr)


def _show(args, p, state, memory) -> int:
    from voldoctor import render
    from voldoctor.lab import hints, view

    pack = p.pack
    if args.lab_cmd == "hint":
        h = hints.hint(p, state, memory, reset=args.reset)
        if args.json:
            print(render.to_json(h))
        elif h["step"] is None:
            print(render.safe(h["hint"]))
        else:
            step = pack.step(h["step"])
            print(f"Hint {h['level']} of 3 for '{render.safe(pack.fill(step.title))}':")
            print(f"  {render.safe(h['hint'])}")
            if h["level"] < 3:
                print("Ask again for a bigger hint.")
        return int(Exit.OK if p.reachable else Exit.DAEMON)
    if args.json:
        print(render.to_json(p.json()))
    else:
        sys.stdout.write(view.text(p, render.unicode_ok()))
    if not p.reachable:
        return int(Exit.DAEMON)
    return int(Exit.PROBLEMS if any(s.status == "broken" for s in p.steps) else Exit.OK)


def lint(path: str) -> int:
    from voldoctor.lab.loader import PackError, load
    from voldoctor.render import safe

    try:
        pack = load(path)
    except PackError as e:
        for line in e.problems:
            print(safe(line))
        print(f"{len(e.problems)} problem(s)")
        return int(Exit.USAGE)
    print(f"ok: {pack.id}: {len(pack.steps)} steps, {len(pack.examples)} examples checked")
    return int(Exit.OK)
