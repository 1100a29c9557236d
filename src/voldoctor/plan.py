"""The port between the engine and the daemon's state.

The engine hands a state source a ReadPlan: what the question needs read
beyond the lists every question reads. A live source (voldoctor.daemon)
follows it; a replayed snapshot already holds what it holds and ignores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from voldoctor.state import DaemonState


@dataclass(frozen=True)
class ReadPlan:
    # Chooses, from the listed state, the containers to look at closely (most relevant first).
    pick: Callable[[DaemonState], list[str]] = lambda state: []
    want: frozenset[str] = frozenset()  # extra reads: "df" (sizes), "images", "changes" (layer writes)
    paths: tuple[str, ...] = ()  # host paths in question (owner, mode, existence)
    ports: tuple[int, ...] = ()  # host ports in question (does something listen)
    images: tuple[str, ...] = ()  # images in question (their VOLUME paths)
    volumes: tuple[str, ...] = ()  # volumes in question (looked into through a helper where out of sight)
    # Volumes found from the lists that the question needs looked into (e.g. what a prune would delete).
    look_inside: Callable[[DaemonState], tuple[str, ...]] = lambda state: ()


class StateSource(Protocol):
    def __call__(self, plan: ReadPlan) -> DaemonState: ...
