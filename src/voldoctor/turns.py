"""Small readings of what a learner types in a conversation, apart from
symptoms: a pick from a numbered list said in words ("the first one i
think", "the 2nd", "number 1"), and a container named in passing ("my
container is called web"). Pure functions over text."""

from __future__ import annotations

import re
from typing import Callable, Optional

_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8,
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
}
# Words that go around a pick without changing it.
_AROUND = {
    "the", "number", "no", "nr", "num", "option", "choice", "item", "it", "its", "it's", "is", "i", "think", "guess",
    "believe", "maybe", "probably", "perhaps", "please", "pick", "take", "choose", "that", "this", "ok", "okay",
    "yes", "yeah", "um", "uh", "hmm", "id", "i'd", "say", "go", "with", "im", "i'm", "pretty", "sure", "one",
    "thats", "that's", "answer", "should", "be", "would", "then", "oh", "well", "#",
}
_WORD = re.compile(r"[a-z0-9']+|#")


def pick(text: str, count: int) -> Optional[int]:
    """The number a short answer picks from a list of `count` (1-based), or
    None when the text is not such an answer. The number may be out of
    range: the caller says so. Only plain ASCII digits count."""
    words = _WORD.findall(text.lower())
    if not words or len(words) > 8 or not text.isascii():
        return None
    picks: list[int] = []
    for w in words:
        if w.isdigit() and len(w) <= 3:
            picks.append(int(w))
        elif w == "last":
            picks.append(count)
        elif w in _ORDINALS:
            picks.append(_ORDINALS[w])
        elif w not in _AROUND:
            return None  # a word that is no part of a pick: a new message
    if not picks and "one" in words:
        picks = [1]  # "one", "that one": the only or first
    return picks[0] if len(set(picks)) == 1 else None


_NAME = r"[\"'`]?([A-Za-z0-9][A-Za-z0-9_.-]*)[\"'`]?"
_CALLED = re.compile(
    r"^\s*(?:(?:my|the|our|this)\s+container(?:'s\s+name\s+is|\s+name\s+is|\s+is\s+(?:called|named)|\s+called)"
    r"|(?:it|she|he)(?:'s|s|\s+is)\s+(?:called|named)|its\s+name\s+is|it'?s\s+name\s+is)\s+"
    + _NAME + r"\s*[.!]*\s*$",
    re.IGNORECASE,
)


_LOOSE = re.compile(r"^\s*(?:it'?s|its|it\s+is|the\s+container\s+is|container|in)\s+" + _NAME + r"\s*[.!]*\s*$", re.I)


def named_container(text: str, known: Optional[Callable[[], list]] = None) -> Optional[str]:
    """The name in "my container is called web", "the container is named web",
    "it's called web"; in "its web" or "container web" only when a container has that
    name (known() lists them); None for anything else."""
    m = _CALLED.match(text)
    if m:
        return m.group(1).rstrip(".") or None
    m = _LOOSE.match(text)
    name = m.group(1).rstrip(".") if m else ""
    return name if name and known is not None and name in known() else None


_IN_PATH = re.compile(r"^\s*(?:(?:it|they|the\s+data|the\s+files?|my\s+\w+)\s+(?:was|were|is|are|lives?)\s+)?(?:in|at|under)"
                      r"\s+['\"`]?(/[^\s'\"`]+)['\"`]?\s*[.!]*\s*$", re.I)


def told_path(text: str) -> Optional[str]:
    """The folder in "it was in /app/data", "the data is in /srv/db", "in /app/data": said after an answer,
    it belongs to the last question."""
    m = _IN_PATH.match(text)
    return m.group(1).rstrip(".,") if m else None


_HELLO = re.compile(r"^(?:hi|hello|hey|hallo|good (?:morning|afternoon|evening))(?: there)?[\s!.,]*$", re.I)
_THANKS = re.compile(r"^(?:thanks?(?: you)?|thx|ty|cheers|great|perfect|ok(?:ay)?|cool|nice)(?: a lot| so much)?[\s!.,]*$",
                     re.I)


_HELP = re.compile(r"^(?:help|help me|\?|what can you do|what do you do|how does this work|how do i use (?:this|you)"
                   r"|what are you)[\s?!.]*$", re.I)
_THANKS_AFTER = re.compile(r"^(?:thanks?|thank you|thx|ty|cheers)\b[\s,!.]*(?:(?:it|that|this) (?:worked|works|helped|"
                           r"did it|fixed it)|you(?:'re| are) (?:great|the best))?[\s!.]*$", re.I)


def wants_help(text: str) -> bool:
    """'help' or 'what can you do' typed as words: the learner asks how to use the conversation."""
    return bool(_HELP.match(text))


_QUIT = re.compile(r"^(?:quit|exit|bye|goodbye|q|:q|:wq|logout)[\s!.]*$", re.I)


def wants_to_leave(text: str) -> bool:
    """'quit', 'exit' or 'bye' typed as a word, without the slash: the learner wants out."""
    return bool(_QUIT.match(text))


def small_talk(text: str) -> Optional[str]:
    """A greeting or a thank-you on its own: answered as one, not matched against the problems."""
    if _HELLO.match(text):
        return ("Hello. Tell me what went wrong with your volumes: a symptom in your own words, an error "
                "message as Docker printed it, or the docker run line you used.")
    if re.fullmatch(r"\s*\d{1,2}[.)]?\s*", text):  # a choice, with no numbered question open
        return ("There is no numbered question open just now: tell me what went wrong, or ask \"what else?\" "
                "for the other findings.")
    if _THANKS.match(text) or _THANKS_AFTER.match(text):
        return "Glad to help. Ask again whenever something else goes wrong; /quit ends the conversation."
    return None
