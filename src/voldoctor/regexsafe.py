"""Regular expressions from rule files are matched against whatever a learner
pastes. Python's engine backtracks, so some patterns take exponential (or
high polynomial) time on a crafted text: `(a+)+$`, `(a|aa)+$`, `.*.*.*x`.
This module rejects such patterns before they are used, from their parse tree:

- a group repeated many times that holds a part of varying length (a repeat,
  an optional part, alternatives) able to match the characters an iteration
  starts with, so one text splits into iterations in many ways;
- a repeat over alternatives that can start with the same character;
- three or more open-ended repeats in a row over overlapping characters.

Character sets are compared on a sample alphabet (ASCII, whitespace and a few
non-ASCII letters), which is enough to tell `[^\\s.]` from `.`.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from typing import Optional

if sys.version_info >= (3, 11):
    from re import _constants as C
    from re import _parser as P
else:  # pragma: no cover
    import sre_constants as C
    import sre_parse as P

MANY = 10  # a repeat whose upper bound is above this counts as "many"
REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT}
SAMPLE = frozenset([chr(c) for c in range(32, 127)] + ["\t", "\n", "\r", "é", "Ü", "ß", "😀", "٣"])
CATEGORIES = {
    C.CATEGORY_DIGIT: r"\d", C.CATEGORY_NOT_DIGIT: r"\D", C.CATEGORY_SPACE: r"\s",
    C.CATEGORY_NOT_SPACE: r"\S", C.CATEGORY_WORD: r"\w", C.CATEGORY_NOT_WORD: r"\W",
}


def risk(pattern: str) -> Optional[str]:
    """Why this pattern could backtrack catastrophically, or None."""
    try:
        tree = P.parse(pattern, re.IGNORECASE)
    except Exception:  # noqa: BLE001 - compile errors are reported by the caller
        return None
    try:
        return _walk(list(tree))
    except RecursionError:
        return "the pattern is nested too deeply to check"


def _many(hi) -> bool:
    return hi == C.MAXREPEAT or hi > MANY


def _walk(items: list) -> Optional[str]:
    run: list[frozenset] = []  # characters of the open-ended repeats met in a row
    for op, av in items:
        if op in REPEATS:
            lo, hi, sub = av
            sub = list(sub)
            if _many(hi):
                start = _first(sub)
                if _ambiguous(sub, start):
                    return ("a group repeated many times holds a part of varying length that can match what the "
                            "group starts with (like (a+)+ or (a|aa)+): matching can take exponential time")
                if hi == C.MAXREPEAT:
                    chars = _chars(sub)
                    run = [r for r in run if r & chars] + [chars]
                    if len(run) >= 3:
                        return ("three or more open-ended repeats in a row match the same characters "
                                "(like .*.*.*): matching can take very long")
            why = _walk(sub)
            if why:
                return why
            continue
        if op not in (C.SUBPATTERN, C.AT):
            run = [] if op in (C.LITERAL, C.IN, C.NOT_LITERAL) and not run else run
        for sub in _children(op, av):
            why = _walk(sub)
            if why:
                return why
    return None


def _children(op, av) -> list:
    if op == C.SUBPATTERN:
        return [list(av[-1])]
    if op == C.BRANCH:
        return [list(b) for b in av[1]]
    if op in (C.ASSERT, C.ASSERT_NOT):
        return [list(av[1])]
    if op in REPEATS or getattr(C, "POSSESSIVE_REPEAT", None) == op:
        return [list(av[2])]
    if getattr(C, "ATOMIC_GROUP", None) == op:
        return [list(av)]
    if op == C.GROUPREF_EXISTS:
        return [list(x) for x in av[1:] if x is not None]
    return []


def _ambiguous(body: list, start: frozenset) -> bool:
    """Does the body hold a part of varying length whose characters meet `start`?"""
    for op, av in body:
        if op in REPEATS and av[0] != av[1] and _chars(list(av[2])) & start:
            return True
        if op == C.BRANCH:
            alts = [list(b) for b in av[1]]
            firsts = [_first(a) for a in alts]
            if any(firsts[i] & firsts[j] for i in range(len(alts)) for j in range(i + 1, len(alts))):
                return True
            if any(not a for a in alts) and _chars([(op, av)]) & start:
                return True
        if any(_ambiguous(s, start) for s in _children(op, av) if op not in REPEATS or av[0] == av[1]):
            return True
    return False


def _atom(op, av) -> frozenset:
    if op == C.LITERAL:
        c = chr(av)
        return frozenset(x for x in {c, c.lower(), c.upper()} if len(x) == 1)
    if op == C.NOT_LITERAL:
        c = chr(av)
        return SAMPLE - {c, c.lower(), c.upper()}
    if op == C.ANY:
        return SAMPLE - {"\n"}
    if op == C.IN:
        return _in_set(tuple((o, a if not isinstance(a, list) else tuple(a)) for o, a in av))
    return frozenset()


@lru_cache(maxsize=512)
def _in_set(items: tuple) -> frozenset:
    neg = bool(items) and items[0][0] == C.NEGATE
    out = set()
    for ch in SAMPLE:
        hit = False
        for op, av in items:
            if op == C.LITERAL:
                hit = chr(av).lower() == ch.lower()
            elif op == C.RANGE:
                lo, hi = av
                hit = any(lo <= ord(x) <= hi for x in {ch, ch.lower(), ch.upper()} if len(x) == 1)
            elif op == C.CATEGORY:
                hit = bool(re.match(CATEGORIES.get(av, r"[\s\S]"), ch))
            if hit:
                break
        if hit != neg:
            out.add(ch)
    return frozenset(out)


def _chars(items: list) -> frozenset:
    """Every character the sequence can match anywhere."""
    out: set = set()
    for op, av in items:
        out |= _atom(op, av)
        for sub in _children(op, av):
            out |= _chars(sub)
    return frozenset(out)


def _first(items: list) -> frozenset:
    """The characters the sequence can begin with."""
    out: set = set()
    for op, av in items:
        if op in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN):
            return frozenset(out | _atom(op, av))
        if op in REPEATS:
            out |= _first(list(av[2]))
            if av[0] > 0:
                return frozenset(out)
            continue
        if op == C.SUBPATTERN:
            f = _first(list(av[-1]))
            out |= f
            if _nonempty(list(av[-1])):
                return frozenset(out)
            continue
        if op == C.BRANCH:
            alts = [list(b) for b in av[1]]
            for a in alts:
                out |= _first(a)
            if all(_nonempty(a) for a in alts):
                return frozenset(out)
            continue
        if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            continue
        return SAMPLE  # anything else: assume it can start with anything
    return frozenset(out)


def _nonempty(items: list) -> bool:
    for op, av in items:
        if op in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN):
            return True
        if op in REPEATS and av[0] > 0 and _nonempty(list(av[2])):
            return True
        if op == C.SUBPATTERN and _nonempty(list(av[-1])):
            return True
        if op == C.BRANCH and all(_nonempty(list(b)) for b in av[1][1]):
            return True
    return False
