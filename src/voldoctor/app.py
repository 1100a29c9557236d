"""What the command line and the conversation share: the rules, the state
source (live daemon, replayed snapshot, or none), and where output goes.
Both import this module; neither imports the other."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Optional, Union

if TYPE_CHECKING:  # kept out of start-up: --help imports nothing heavy
    from voldoctor.plan import StateSource
    from voldoctor.state import DaemonState, Endpoint

REPORT_INSPECT = 50  # a report is a one-off: it may look closely at more containers than a question does


class UsageError(Exception):
    """Bad input: printed as one line, exit status 2."""


def load_rules(args):
    from voldoctor.rules import RulesError, extra_dirs, load

    try:
        return load(extra_dirs(getattr(args, "rules_dir", None)))
    except RulesError as e:
        from voldoctor.render import safe

        for line in e.problems:
            print(f"voldoctor: {safe(line)}", file=sys.stderr)
        raise UsageError(f"the rules are invalid ({len(e.problems)} problem(s)); see 'voldoctor rules lint'") from None


def saved_state(path: str) -> DaemonState:
    from voldoctor.state import SnapshotError, load

    try:
        return load(path)
    except SnapshotError as e:
        raise UsageError(str(e)) from None


def endpoint(args) -> Union[Endpoint, DaemonState]:
    """The endpoint to ask, or, when even that cannot be worked out, the
    unreachable state that says why."""
    from voldoctor import daemon

    try:
        return daemon.resolve_endpoint(getattr(args, "host", None))
    except daemon.EndpointError as e:
        return daemon.unreachable(e.error)


def state_source(args) -> Optional[StateSource]:
    """The port to daemon state: a live collector, a replayed snapshot, or None (offline)."""
    if getattr(args, "offline", False):
        return None
    from voldoctor.state import DaemonState

    if getattr(args, "snapshot", None):
        saved = saved_state(args.snapshot)
        return lambda plan: saved
    ep = endpoint(args)
    if isinstance(ep, DaemonState):
        return lambda plan: ep
    from voldoctor import daemon

    return lambda plan: daemon.collect(ep, args.timeout, plan)


def whole_state(args) -> DaemonState:
    """Everything a report or snapshot carries: a saved state, or the live
    daemon read widely (sizes, images, the newest containers in detail)."""
    from voldoctor import daemon
    from voldoctor.plan import ReadPlan
    from voldoctor.state import DaemonState

    if getattr(args, "snapshot", None):
        return saved_state(args.snapshot)
    ep = endpoint(args)
    if isinstance(ep, DaemonState):
        return ep

    plan = ReadPlan(lambda s: [c.id for c in sorted(s.containers, key=lambda c: -c.created)], frozenset({"df", "images"}))
    return daemon.collect(ep, args.timeout, plan, max_inspect=REPORT_INSPECT, budget=8 + 3 * REPORT_INSPECT)


def write_output(path: str, text: str, force: bool = False) -> None:
    """To stdout for '-', else privately to a file (see voldoctor.files)."""
    if path == "-":
        sys.stdout.write(text)
        return
    from voldoctor.files import WriteError, write_private

    try:
        write_private(path, text, force=force)
    except WriteError as e:
        raise UsageError(str(e)) from None


def load_project(args, text: str = ""):
    """The project a question is about, or None; a file that cannot be read is a usage error (exit 2)."""
    from voldoctor import project

    try:
        return project.for_question(text, getattr(args, "project", None), getattr(args, "compose_file", None))
    except project.ProjectError as e:
        raise UsageError(str(e)) from None
