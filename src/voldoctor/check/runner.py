"""Running the tree: a failed parent skips its children; probe objects are
removed whatever happens, Ctrl-C and SIGTERM included. Nothing is printed
here: what could not be removed is left in the context for the caller."""

from __future__ import annotations

import signal
import sys
import time

from voldoctor.check.model import CHECKS, Check, Context, Result
from voldoctor.exits import Exit


def ids() -> list[str]:
    return [c.id for c in CHECKS]


def selected(only: list[str], skip: list[str]) -> list[Check]:
    want = set(only) if only else set(ids())
    return [c for c in CHECKS if c.id in want and c.id not in set(skip)]


def run_checks(ctx: Context, chosen: list[Check], on_start=None, on_done=None) -> list[tuple[Check, Result]]:
    """Run the checks in order. A failed (or skipped-for-failure) parent skips
    its children. Probe objects are removed whatever happens, Ctrl-C included."""
    results: dict[str, Result] = {}
    out: list[tuple[Check, Result]] = []
    by_id = {c.id: c for c in CHECKS}
    blocked: dict[str, str] = {}

    def on_term(signum, frame):
        raise KeyboardInterrupt

    old_term = signal.signal(signal.SIGTERM, on_term) if _main_thread() else None
    try:
        for c in CHECKS:
            parent = c.parent
            reason = None
            while parent is not None:
                if parent in blocked:
                    reason = blocked[parent]
                    break
                parent = by_id[parent].parent
            if c not in chosen:
                # An unselected check still gates its children when it would fail;
                # the state-only ones are cheap, so evaluate them quietly.
                if not c.live and reason is None:
                    r = _run_one(ctx, c)
                    if r.status == "fail":
                        blocked[c.id] = f"{c.id} failed"
                continue
            if reason:
                r = Result("skip", f"skipped: {reason}")
                blocked[c.id] = reason
            elif c.live and ctx.replay:
                r = Result("skip", "replay: needs the live daemon")
            else:
                if on_start:
                    on_start(c)
                r = _run_one(ctx, c)
                if r.status == "fail":
                    blocked[c.id] = f"{c.id} failed"
            results[c.id] = r
            out.append((c, r))
            if on_done:
                on_done(c, r)
        return out
    finally:
        if ctx.prober is not None:
            prev = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
            try:
                ctx.not_removed = ctx.prober.cleanup(interrupted=sys.exc_info()[0] is not None)
                ctx.prober.close()
            finally:
                if prev is not None:
                    signal.signal(signal.SIGINT, prev)
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _run_one(ctx: Context, c: Check) -> Result:
    from voldoctor.prober import ProbeError

    limit = c.limit or ctx.timeout
    t0 = time.monotonic()
    try:
        r = c.run(ctx)
    except ProbeError as e:
        kind = e.error.kind
        msg = (f"the daemon did not answer within {limit:g}s" if kind == "timeout" else e.error.detail)
        r = Result("fail", msg, [])
    took = time.monotonic() - t0
    r.duration_ms = int(took * 1000)
    if took > limit and r.status != "fail":
        r = Result("fail", f"took {took:.1f}s, longer than its {limit:g}s limit ({r.message})", r.fix, r.duration_ms)
    return r


def summary(results: list[tuple[Check, Result]], strict: bool) -> dict:
    counts = {k: sum(1 for _, r in results if r.status == k) for k in ("pass", "warn", "fail", "skip")}
    failed = counts["fail"] > 0 or (strict and counts["warn"] > 0)
    return {**counts, "exit_code": int(Exit.PROBLEMS if failed else Exit.OK)}
