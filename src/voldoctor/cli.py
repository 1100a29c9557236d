"""Command line: argparse, subcommands and exit codes. Thin on purpose."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional

from voldoctor import __version__
from voldoctor.app import UsageError, load_project, load_rules, saved_state, state_source, whole_state, write_output

from voldoctor.exits import Exit, interrupted

EXIT_OK, EXIT_USAGE, EXIT_DAEMON = Exit.OK, Exit.USAGE, Exit.DAEMON


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse exits 2 too; keep its one-line style
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"voldoctor: error: {message}\n")


def _seconds(text: str) -> float:
    """--timeout: a finite number of seconds above 0 (argparse turns the error into exit 2)."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of seconds above 0, e.g. 10")
    return value


def _common(p: argparse.ArgumentParser, top: bool = False) -> None:
    # Given before or after the subcommand; a subcommand must not reset what
    # was given before it, so its defaults are suppressed.
    keep = {} if top else {"default": argparse.SUPPRESS}
    p.add_argument("-H", "--host", help="daemon address (default: DOCKER_HOST, DOCKER_CONTEXT, the docker CLI's context)",
                   **keep)
    p.add_argument("--timeout", type=_seconds, help="seconds to wait for the daemon (default 10)",
                   **({"default": 10.0} if top else keep))
    p.add_argument("--rules-dir", action="append", metavar="DIR",
                   help="an extra rules folder (repeatable; also VOLDOCTOR_RULES_PATH)",
                   **({"default": []} if top else keep))
    p.add_argument("--no-color", action="store_true", help="plain output (NO_COLOR is honoured too)", **keep)
    p.add_argument("--snapshot", metavar="FILE", help="replay a saved state instead of asking the daemon", **keep)


def _project(p: argparse.ArgumentParser, top: bool = False) -> None:
    keep = {} if top else {"default": argparse.SUPPRESS}
    p.add_argument("--project", metavar="DIR", help="the project folder (compose file, .env, Dockerfile); "
                   "default: this folder when it holds one", **keep)
    p.add_argument("--compose-file", metavar="FILE", help="the compose file (like Compose's -f)", **keep)


def build_parser() -> argparse.ArgumentParser:
    top = _Parser(prog="voldoctor", description="A troubleshooting assistant for Docker volumes and persistence. "
                  "With no command it opens a conversation.")
    top.add_argument("--version", action="version", version=f"voldoctor {__version__}")
    _common(top, top=True)
    _project(top, top=True)
    sub = top.add_subparsers(dest="cmd", parser_class=_Parser)

    d = sub.add_parser("diagnose", help="answer one question and exit")
    _common(d)
    d.add_argument("text", nargs="*", help="a symptom, an error text or a docker command; '-' reads one per line from stdin")
    d.add_argument("--volume", help="the volume in question")
    d.add_argument("--container", help="the container in question")
    d.add_argument("--json", action="store_true", help="print one JSON object")
    d.add_argument("--offline", action="store_true", help="never contact a daemon")
    d.add_argument("--symptom", metavar="ID", help="the symptom, when the words leave it open (answers the numbered "
                   "question: use an id it shows)")
    _project(d)

    r = sub.add_parser("rules", help="list, show and lint the rules")
    _common(r)
    rsub = r.add_subparsers(dest="rules_cmd", parser_class=_Parser)
    ls = rsub.add_parser("list", help="every symptom and its rules")
    ls.add_argument("--markdown", action="store_true", help="as the README's table")
    s = rsub.add_parser("show", help="one rule or symptom in full")
    s.add_argument("id")
    fa = rsub.add_parser("facts", help="every fact a rule may test or quote, by subject")
    li = rsub.add_parser("lint", help="validate a rules folder (exit 2 when invalid)")
    li.add_argument("dir", nargs="?", help="the folder (default: the bundled rules and any extra folders)")
    for p in (ls, s, li, fa):
        _common(p)

    ck = sub.add_parser("check", help="the pre-lab checklist (exit 0 ready, 1 something failed)")
    _common(ck)
    ck.add_argument("--json", action="store_true", help="print one JSON object")
    ck.add_argument("--strict", action="store_true", help="warnings fail too")
    ck.add_argument("--only", nargs="+", default=[], metavar="ID", help="run only these checks")
    ck.add_argument("--skip", nargs="+", default=[], metavar="ID", help="leave these checks out")
    ck.add_argument("--list", action="store_true", help="print the check ids and exit")
    ck.add_argument("--lab", metavar="FILE", help="a TOML lab profile (image, port, volume, path)")
    ck.add_argument("--image", help="the image for the round trip (default: the lab image, if present)")
    ck.add_argument("--pull", action="store_true", help="pull the lab image if it is missing")
    ck.add_argument("--ascii", action="store_true", help="ASCII markers instead of ✓ ! ✗")
    _project(ck)

    rp = sub.add_parser("report", help="a redacted report of this machine, for a TA")
    _common(rp)
    rp.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    rp.add_argument("--format", choices=["json", "markdown"], default=None,
                    help="json (replayable) or markdown (to paste in a chat); default from the file name, else json")
    rp.add_argument("--anonymize", action="store_true", help="also mask user names, host names and home paths")
    rp.add_argument("--force", action="store_true", help="replace FILE if it exists")
    _project(rp)

    sm = sub.add_parser("summarize", help="which problems a class has, from many JSON reports")
    _common(sm)
    sm.add_argument("reports", nargs="+", metavar="REPORT")
    sm.add_argument("--json", action="store_true")

    from voldoctor.lab.cli import add_parsers as lab_parsers

    lab_parsers(sub, _common)
    dm = sub.add_parser("demo", help="try voldoctor on states captured from a real daemon; no Docker needed")
    _common(dm)
    dm.add_argument("name", nargs="?", help="which state (default: the first; --list shows them)")
    dm.add_argument("--list", action="store_true", help="list the bundled states")

    sn = sub.add_parser("snapshot", help="save the daemon's state as JSON, for replay (secrets masked)")
    _common(sn)
    sn.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    sn.add_argument("--force", action="store_true", help="replace FILE if it exists")
    sn.add_argument("--raw", action="store_true",
                    help="keep secret-looking values (for your own use; by default they are masked as in a report)")
    return top


def main(argv: Optional[list[str]] = None) -> int:
    import signal

    parser = build_parser()
    args = parser.parse_args(argv)
    if signal.getsignal(signal.SIGINT) == signal.SIG_DFL:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C from here on: cleanup, then exit 130
    try:
        if args.cmd == "diagnose":
            return cmd_diagnose(args)
        if args.cmd == "rules":
            return cmd_rules(args, parser)
        if args.cmd == "snapshot":
            return cmd_snapshot(args)
        if args.cmd == "check":
            return cmd_check(args)
        if args.cmd == "report":
            return cmd_report(args)
        if args.cmd == "summarize":
            return cmd_summarize(args)
        if args.cmd == "lab":
            from voldoctor.lab.cli import run

            return run(args)
        if args.cmd == "demo":
            from voldoctor.demo import run

            return run(args)
        return cmd_repl(args)
    except UsageError as e:
        from voldoctor.render import safe

        print(f"voldoctor: {safe(e)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except (KeyboardInterrupt, Exception) as e:
        if not interrupted(e):
            raise
        print("voldoctor: interrupted", file=sys.stderr)
        return Exit.INTERRUPTED


# ------------------------------------------------------------ helpers


# ------------------------------------------------------------ commands


def cmd_diagnose(args) -> int:
    from voldoctor import engine, render

    rs = load_rules(args)
    source = state_source(args)
    unicode = render.unicode_ok()
    if args.text == ["-"]:
        worst = EXIT_OK
        for line in sys.stdin:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            a = engine.answer(line, rs, source, volume=args.volume, container=args.container,
                              prior=_chosen(args, rs, line), project=load_project(args, line))
            print(render.to_json(render.answer_json(a), indent=None), flush=True)
            worst = max(worst, int(a.exit_code))
        return worst
    text = " ".join(args.text)
    if args.volume is not None and not args.volume.strip():
        raise UsageError("--volume needs a name")
    a = engine.answer(text, rs, source, volume=args.volume, container=args.container,
                      prior=_chosen(args, rs, text), project=load_project(args, text))
    if args.json:
        print(render.to_json(render.answer_json(a)))
    else:
        sys.stdout.write(render.answer_text(a, unicode))
    return int(a.exit_code)


def _chosen(args, rs, text: str):
    """The symptom named with --symptom, as a choice made by the learner (None without it)."""
    if args.symptom is None:
        return None
    from voldoctor import engine
    from voldoctor.rules import did_you_mean
    from voldoctor.symptoms import Candidate, Match

    sym = rs.symptoms.get(args.symptom)
    if sym is None:
        raise UsageError(f"--symptom: no symptom {args.symptom!r}{did_you_mean(args.symptom, list(rs.symptoms))}; "
                         "voldoctor rules list shows them")
    return Match(Candidate(sym.id, sym.title, 100), (), engine.read(text, rs).match.entities, "chosen")


def cmd_rules(args, parser) -> int:
    from voldoctor import render
    from voldoctor.rules import RulesError, load

    if args.rules_cmd == "lint":
        from pathlib import Path

        try:
            if args.dir:
                rs = load([Path(args.dir)], bundled=not _is_complete(Path(args.dir)))
            else:
                rs = load_rules(args)
        except RulesError as e:
            for line in e.problems:
                print(render.safe(line))
            print(f"{len(e.problems)} problem(s)")
            return EXIT_USAGE
        print(f"ok: {len(rs.rules)} rules, {len(rs.symptoms)} symptoms, "
              f"{sum(len(r.examples) for r in rs.rules.values())} examples checked")
        return EXIT_OK
    if args.rules_cmd == "facts":
        sys.stdout.write(render.facts_text())
        return EXIT_OK
    rs = load_rules(args)
    if args.rules_cmd == "show":
        if args.id in rs.rules:
            sys.stdout.write(render.rule_text(rs.rules[args.id], rs))
            return EXIT_OK
        if args.id in rs.symptoms:
            sys.stdout.write(render.symptom_text(rs.symptoms[args.id], rs))
            return EXIT_OK
        from voldoctor.rules import did_you_mean

        raise UsageError(f"no rule or symptom {args.id!r}{did_you_mean(args.id, [*rs.rules, *rs.symptoms])}")
    if args.rules_cmd in (None, "list"):
        sys.stdout.write(render.rules_table_markdown(rs) if getattr(args, "markdown", False) else render.rules_list_text(rs))
        return EXIT_OK
    return EXIT_USAGE


def _is_complete(folder) -> bool:
    """A folder with its own symptoms/ stands alone; one without is a set of
    extra rules checked on top of the bundled ones."""
    return (folder / "symptoms").is_dir()


def cmd_report(args, conversation=None) -> int:
    from voldoctor import render, report

    rs = load_rules(args)
    st = whole_state(args)
    fmt = args.format or ("markdown" if args.output.endswith((".md", ".markdown")) else "json")
    rep = report.build(st, rs, anonymize=args.anonymize, conversation=conversation,
                       project=load_project(args) if hasattr(args, "project") else None)
    text = report.markdown(rep) if fmt == "markdown" else render.to_json(rep) + "\n"
    write_output(args.output, text, args.force)
    if args.output != "-":
        print(f"voldoctor: wrote a {fmt} report to {render.safe(args.output)} ({len(rep['findings'])} finding(s); "
              f"{'anonymized' if args.anonymize else 'secrets masked'})", file=sys.stderr)
    return EXIT_OK if st.reachable else EXIT_DAEMON


def cmd_summarize(args) -> int:
    from voldoctor import render, report

    rs = load_rules(args)
    s = report.summarize(args.reports, rs)
    if args.json:
        print(render.to_json(s))
    else:
        sys.stdout.write(report.summary_text(s))
    if s["machines"] == 0:
        for p in s["unreadable"]:
            print(f"voldoctor: {render.safe(p)}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def cmd_snapshot(args) -> int:
    from voldoctor import state as st

    snap = whole_state(args)
    if args.raw:
        text = st.dump(snap)
    else:  # the same masking as a report's state part, so a snapshot can be shared as safely
        import json

        from voldoctor.redact import redact_state

        data, _ = redact_state(json.loads(st.dump(snap)))
        text = st.dump(st.DaemonState.model_validate(data))
    write_output(args.output, text + "\n", args.force)
    if not snap.reachable:
        from voldoctor.render import safe

        print(f"voldoctor: daemon unreachable: {safe(snap.error.one_line()) if snap.error else '?'}", file=sys.stderr)
        return EXIT_DAEMON
    return EXIT_OK


def cmd_check(args) -> int:
    import time

    from voldoctor.state import DaemonState

    from voldoctor import check, render

    if args.list:
        for c in check.CHECKS:
            print(f"{c.id:<18} {c.title}")
        return EXIT_OK
    for i in [*args.only, *args.skip]:
        if i not in check.ids():
            from voldoctor.rules import did_you_mean

            raise UsageError(f"no check {i!r}{did_you_mean(i, check.ids())}; voldoctor check --list shows them")
    try:
        profile = check.load_profile(args.lab)
    except ValueError as e:
        raise UsageError(str(e)) from None
    ctx = check.Context(profile=profile, timeout=args.timeout, rules=load_rules(args), image=args.image,
                        pull=args.pull, project=load_project(args))
    t0 = time.monotonic()
    if args.snapshot:
        ctx.state = saved_state(args.snapshot)
    else:
        from voldoctor import daemon
        from voldoctor.app import endpoint

        ep = endpoint(args)
        if isinstance(ep, DaemonState):
            ctx.endpoint_error, ctx.state = ep.error, ep
        else:
            ctx.endpoint, ctx.state = ep, daemon.collect(ep, args.timeout)
    tty = sys.stdout.isatty() and not args.json
    unicode = render.unicode_ok() and not args.ascii
    color = tty and not (args.no_color or os.environ.get("NO_COLOR"))
    spin = sys.stderr.isatty() and not args.json

    def start(c):
        if spin:
            sys.stderr.write(f"\r\x1b[2K  ... {c.title}")
            sys.stderr.flush()

    def done(c, r):
        if spin:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()
        if not args.json:
            print(render.check_line(c, r, unicode, color), flush=True)

    if not args.json:
        where = ctx.state.endpoint.url if ctx.state is not None else "?"
        print(f"voldoctor check: {render.safe(where)}" + (" (replaying a snapshot)" if ctx.replay else ""))
    try:
        results = check.run_checks(ctx, check.selected(args.only, args.skip), start, done)
    finally:
        if ctx.not_removed:
            print("voldoctor: could not remove " + "; ".join(ctx.not_removed) + " (labelled io.voldoctor.probe=1; "
                  "the next voldoctor check removes them)", file=sys.stderr)
    s = check.summary(results, args.strict)
    if args.json:
        print(render.to_json(render.check_json(results, s, ctx.state.endpoint.url if ctx.state else None,
                                               ctx.replay)))
    else:
        print(render.check_summary_line(s, time.monotonic() - t0))
    return s["exit_code"]


def cmd_repl(args) -> int:
    from voldoctor import repl

    return repl.run(args)
