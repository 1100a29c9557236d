"""What a conversation is made of, apart from the conversation itself: the
reply lines it gives, what it is waiting for, what it is talking about, and
the registry of slash commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

from voldoctor.symptoms import Candidate, Match

if TYPE_CHECKING:
    from voldoctor.session import Session

FOLLOW_UPS = {
    "why": ["why", "why is that", "why does this happen", "explain", "what does that mean", "how come",
            "i don't understand", "why?"],
    "fix": ["how do i fix it", "how do i fix this", "show me the command", "what should i do", "fix",
            "what command", "how to fix", "give me the fix", "what do i run"],
    "else": ["what else could it be", "something else", "not that", "other causes", "anything else",
             "that's not it", "what else", "next"],
    "recheck": ["check again", "i did that", "still broken", "try again", "recheck", "done", "i fixed it",
                "it still doesn't work", "did it work", "again", "i created it", "still not working"],
}


FOLLOW_UP_CUTOFF = 86


@dataclass(frozen=True)
class Line:
    text: str
    style: str = ""  # "", "error", "warning", "info", "dim", "cmd", "title"


@dataclass
class Reply:
    lines: list[Line] = field(default_factory=list)
    quit: bool = False

    def add(self, text: str = "", style: str = "") -> "Reply":
        self.lines.append(Line(text, style))
        return self

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@dataclass
class Pending:
    kind: str  # "symptom" (choose a candidate) or "volume" / "container" / "path" (name a target)
    text: str  # the question that led here
    options: list[str]
    candidates: tuple[Candidate, ...] = ()
    match: Optional[Match] = None  # the symptom already settled (chosen, or decided by the daemon), kept for the reply


@dataclass
class Focus:
    volume: Optional[str] = None
    container: Optional[str] = None
    path: Optional[str] = None

    def describe(self) -> str:
        bits = [f"volume {self.volume}" if self.volume else "", f"container {self.container}" if self.container else "",
                f"path {self.path}" if self.path else ""]
        return ", ".join(b for b in bits if b) or "nothing yet"


@dataclass(frozen=True)
class Command:
    name: str
    args: str
    help: str
    run: Callable[["Session", str], Reply]


COMMANDS: dict[str, Command] = {}


def command(name: str, args: str, help: str):
    def deco(fn):
        COMMANDS[name] = Command(name, args, help, fn)
        return fn

    return deco
