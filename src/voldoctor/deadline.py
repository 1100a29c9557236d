"""A deadline that holds for a whole exchange with the daemon.

A socket timeout bounds each read, not the exchange: a daemon that sends one
byte every 50 ms never trips it. `hard_deadline` arms a real-time timer that
interrupts whatever is running once the time is up, and keeps interrupting
every 0.2 s until the block is left, so a layer that swallows the first
interruption (a retry in the HTTP stack) gets another one.

Only the main thread can receive signals; elsewhere (and where setitimer does
not exist) the block runs with the per-read timeouts alone.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from typing import Iterator

REPEAT = 0.2  # seconds between interruptions once the deadline has passed


class DeadlineExceeded(TimeoutError):
    """The whole exchange took longer than allowed."""


def _usable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _raise(signum, frame):
    raise DeadlineExceeded("the deadline for this exchange passed")


@contextmanager
def hard_deadline(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds`. An outer deadline that ends sooner
    keeps priority, and is re-armed (for its remaining time) on the way out."""
    if not _usable() or not (seconds > 0):
        yield
        return
    outer_left, _ = signal.getitimer(signal.ITIMER_REAL)
    outer_handler = signal.getsignal(signal.SIGALRM)
    t0 = time.monotonic()
    if outer_left and outer_left < seconds:
        yield  # the outer deadline comes first; it will interrupt us
        return
    signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT)
    try:
        yield
    finally:
        _disarm()
        signal.signal(signal.SIGALRM, outer_handler)
        if outer_left:
            left = outer_left - (time.monotonic() - t0)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), REPEAT)


def _disarm() -> None:
    # A tick may land between the block's end and this call: retry until the
    # timer is off, so no interruption escapes the block.
    while True:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
            return
        except DeadlineExceeded:
            continue
