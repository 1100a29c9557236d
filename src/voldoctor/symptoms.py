"""Text to ranked symptoms, plus the names and paths the text carries.

Pasted error texts are recognised by the symptoms' own regular expressions
(a hit is certain). Other text goes to the learned matcher (learned.py), a linear
model trained on real labelled text. A probability under the cross-validated
threshold is never turned into a guess: the caller gets the best candidates and
asks. The earlier rapidfuzz phrase scorer stays as phrase_match, for the bench.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Optional

from rapidfuzz import fuzz, utils

from voldoctor.rules import Symptom

STRONG = 65  # a phrase score at or above this may be taken as the answer...
MARGIN = 8  # ...when it leads the runner-up by at least this much
NEAR_EXACT = 95
WEAK = 50  # below this a symptom is not even offered as a candidate
MAX_TEXT = 4000  # longer input is scored on its first part (pasted logs run long)

_CONTAINER_NAME_RE = re.compile(r'(?:name|container) "(/[\w.@+-]+)"', re.IGNORECASE)
PATH_RE = re.compile(r"(?<![\w.:/-])(/[\w.@+\-]+(?:/[\w.@+\-]*)*)")
TOKEN_RE = re.compile(r"[A-Za-z0-9][\w.\-]*")


@dataclass(frozen=True)
class Candidate:
    id: str
    title: str
    score: int


@dataclass(frozen=True)
class Entities:
    volumes: tuple[str, ...] = ()
    containers: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()
    images: tuple[str, ...] = ()
    names: tuple[str, ...] = ()  # container names wanted (e.g. from a name conflict)

    def merged(self, other: "Entities") -> "Entities":
        def u(a, b):
            return tuple(dict.fromkeys((*a, *b)))

        return Entities(*(u(getattr(self, f), getattr(other, f)) for f in
                          ("volumes", "containers", "paths", "ports", "images", "names")))


@dataclass(frozen=True)
class Match:
    symptom: Optional[Candidate]
    candidates: tuple[Candidate, ...]
    entities: Entities = field(default_factory=Entities)
    via: str = ""  # "error" (a known error text), "model" (the learned matcher is sure), or "" when not confident
    other: bool = False  # the text is most likely a Docker problem that is not a volume problem

    @property
    def confident(self) -> bool:
        return self.symptom is not None


@lru_cache(maxsize=1024)
def _compiled(regex: str) -> re.Pattern:
    return re.compile(regex, re.IGNORECASE)


def _prep(s: str) -> str:
    return utils.default_process(s)


@lru_cache(maxsize=16)
def _prepared(symptoms: tuple[Symptom, ...]) -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
    return tuple((s.id, tuple(_prep(p) for p in s.phrases), tuple(_prep(k) for k in s.keywords)) for s in symptoms)


def phrase_score(text: str, phrases: Iterable[str]) -> float:
    """How well the learner's text says one of the phrases (0-100).

    partial_ratio finds a phrase inside a long message; token_set_ratio
    forgives word order and extra words; token_sort_ratio keeps a short
    message from scoring high on a long phrase that shares one word."""
    best = 0.0
    for p in phrases:
        if not p:
            continue
        part = fuzz.partial_ratio(p, text, processor=None) if len(text) >= len(p) else fuzz.ratio(p, text, processor=None)
        sett = fuzz.token_set_ratio(p, text, processor=None)
        sort = fuzz.token_sort_ratio(p, text, processor=None)
        s = max(part * 0.9 + sett * 0.1, sett * 0.75 + sort * 0.25)
        if s > best:
            best = s
            if best >= 100:
                break
    return best


STOP = frozenset("a an the is are was were be been to of in on for with and or but not my i it this that at as by "
                 "from do does did can cant when after before how what why where which docker container containers "
                 "get got have has had me you your we our its there then than so if also just".split())
WORD_RE = re.compile(r"[a-z0-9$%()._/-]+")
PHRASE_WEIGHT = 0.75  # the rest of a score is vocabulary overlap


def words(text: str) -> list[str]:
    return [w.strip("._-/") for w in WORD_RE.findall(text.lower()) if w not in STOP and len(w.strip("._-/")) > 1]


@lru_cache(maxsize=16)
def _vocabulary(symptoms: tuple[Symptom, ...]) -> tuple[dict[str, frozenset], dict[str, float]]:
    """Each symptom's words (from its phrases and keywords), and how telling
    each word is: a word that only one symptom uses weighs the most."""
    import math

    vocab = {s.id: frozenset(w for p in (*s.phrases, *s.keywords) for w in words(p)) for s in symptoms}
    df: dict[str, int] = {}
    for v in vocab.values():
        for w in v:
            df[w] = df.get(w, 0) + 1
    n = len(symptoms)
    return vocab, {w: math.log(1 + n / d) for w, d in df.items()}


def overlap_scores(text: str, symptoms: tuple[Symptom, ...]) -> dict[str, float]:
    """Per symptom, the share (0-100) of the text's telling words that belong to it."""
    vocab, idf = _vocabulary(symptoms)
    ws = set(words(text))
    total = sum(idf.get(w, 0.0) for w in ws)
    if total == 0:
        return {sid: 0.0 for sid in vocab}
    return {sid: 100.0 * sum(idf[w] for w in ws if w in v) / total for sid, v in vocab.items()}


PREFILTER_AFTER = 3  # compiling the prefilter costs about as much as 100 texts save: not for one question
_calls: dict[tuple[str, ...], int] = {}


@lru_cache(maxsize=64)
def _any_error(regexes: tuple[str, ...]) -> re.Pattern:
    """One pattern that matches where any error pattern does: most texts hold no
    error text, and one search of the lower-cased text tells so quickly. Its
    letters are lower-cased (escapes such as \\S kept), which spares IGNORECASE,
    three times slower; a negated class of capitals would need it back."""
    parts = [re.sub(r"\(\?P<\w+>", "(?:", rx) for rx in regexes]
    lowered = [re.sub(r"(\\.)|([A-Z])", lambda m: m.group(1) or m.group(2).lower(), p) for p in parts]
    body = "|".join("(?:%s)" % p for p in lowered) or "(?!)"
    negated_capitals = any(re.search(r"\[\^[^\]]*[A-Z]", p) for p in parts)
    return re.compile(body, re.IGNORECASE if negated_capitals else 0)


_NONE = Entities()


_PATTERNS: dict[tuple[int, ...], tuple] = {}


def _patterns(symptoms: tuple[Symptom, ...]) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Every error pattern, and each symptom's own, as tuples (the prefilters' keys).
    Kept per catalogue by the identity of its symptoms (a frozen model's hash walks
    all its fields: a tenth of the matching time); the symptoms are kept with the
    entry, so an id is never reused while its entry lives."""
    key = tuple(map(id, symptoms))
    hit = _PATTERNS.get(key)
    if hit is None:
        if len(_PATTERNS) >= 16:
            _PATTERNS.clear()
        own = tuple(tuple(p.regex for p in s.errors) for s in symptoms)
        hit = _PATTERNS[key] = (symptoms, (tuple(rx for rs in own for rx in rs), own))
    return hit[1]


def error_hits(text: str, symptoms: dict[str, Symptom]) -> tuple[dict[str, Entities], dict[str, int]]:
    """Per symptom, the entities its error patterns captured, and the ids whose
    error pattern matched (with the length of the longest hit)."""
    raw = text[:MAX_TEXT]
    found: dict[str, Entities] = {}
    certain: dict[str, int] = {}  # symptom id -> length of its longest error-pattern hit
    regexes, own = _patterns(tuple(symptoms.values()))
    _calls[regexes] = n = _calls.get(regexes, 0) + 1
    low = raw.lower() if n > PREFILTER_AFTER else None
    if low is not None and not _any_error(regexes).search(low):
        return dict.fromkeys(symptoms, _NONE), certain
    for (sid, sym), mine in zip(symptoms.items(), own):
        ents = Entities()
        if low is not None and mine and not _any_error(mine).search(low):
            found[sid] = ents  # none of this symptom's patterns can hit: spare the searches one by one
            continue
        for pat in sym.errors:
            m = _compiled(pat.regex).search(raw)
            if m:
                certain[sid] = max(certain.get(sid, 0), m.end() - m.start())
                g = {k: v for k, v in m.groupdict().items() if v}
                ents = ents.merged(Entities(
                    volumes=(g["volume"],) if "volume" in g else (),
                    containers=(g["container"],) if "container" in g else (),
                    paths=(g["path"],) if "path" in g else (),
                    ports=(int(g["port"]),) if g.get("port", "").isdigit() and len(g["port"]) <= 5 else (),
                    images=(g["image"],) if "image" in g else (),
                    names=(g["name"].lstrip("/"),) if "name" in g else (),
                ))
        found[sid] = ents
    return found, certain


def certain_hit(text: str, symptoms: dict[str, Symptom]) -> Optional[str]:
    """The symptom whose error pattern the text holds, if any. Several patterns
    can hit one pasted text ("permission denied while trying to connect to the
    Docker daemon socket" holds a plain "permission denied"): the longest, most
    specific hit wins."""
    _, certain = error_hits(text, symptoms)
    return max(certain, key=lambda sid: (certain[sid], sid)) if certain else None


def score_all(text: str, symptoms: dict[str, Symptom]) -> tuple[list[Candidate], dict[str, Entities], dict[str, int]]:
    """The earlier phrase scorer, kept for the accuracy bench: every symptom's
    rapidfuzz phrase and keyword score for the text, highest first."""
    raw = text[:MAX_TEXT]
    prepped = _prep(raw)
    found, certain = error_hits(text, symptoms)
    scores: dict[str, float] = {}
    syms = tuple(symptoms.values())
    over = overlap_scores(raw, syms)
    for (sid, phrases, keywords), sym in zip(_prepared(syms), syms):
        s = 100.0 if sid in certain else min(
            99.0, PHRASE_WEIGHT * phrase_score(prepped, phrases) + (1 - PHRASE_WEIGHT) * over[sid])
        scores[sid] = s
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return [Candidate(sid, symptoms[sid].title, round(s)) for sid, s in ranked], found, certain


def phrase_match(text: str, symptoms: dict[str, Symptom], names: Optional["Names"] = None) -> Match:
    """The earlier matcher (error patterns, then phrase scores), for the bench."""
    ranked, found, certain = score_all(text, symptoms)
    names = names or Names()
    ents = extract(text, names)
    offered = tuple(c for c in ranked if c.score >= WEAK)[:3]
    if certain:
        best = max(certain, key=lambda sid: (certain[sid], sid))
        top = next(c for c in ranked if c.id == best)
        ents = found[best].merged(ents)
        return Match(top, tuple(c for c in ranked if c.score >= WEAK and c.id != top.id)[:3], ents, "error")
    lead = MARGIN if not ranked or ranked[0].score < NEAR_EXACT else MARGIN // 2 + 1
    if ranked and ranked[0].score >= STRONG and (len(ranked) < 2 or ranked[0].score - ranked[1].score >= lead):
        return Match(ranked[0], offered[1:], ents, "phrase")
    return Match(None, offered, ents, "")


def match(text: str, symptoms: dict[str, Symptom], names: Optional["Names"] = None, *,
          model=None) -> Match:
    """The symptom the text says. A known error text is certain ("error"). Otherwise
    the learned model ranks the symptoms; its first choice is the answer ("model")
    only when its probability clears the threshold chosen by cross-validation and
    it is a volume symptom. Else the best candidates come back for a question, and
    `other` is set when the text most likely is a Docker problem outside volumes."""
    from voldoctor import learned  # imported (and its model read) only when text is matched

    found, certain = error_hits(text, symptoms)
    ents = extract(text, names or Names())
    best = max(certain, key=lambda sid: (certain[sid], sid)) if certain else None
    ranked = _ranked(text, model or learned.model)
    mdl = model or (learned.model() if ranked else None)
    floor = mdl.min_candidate if mdl else 1.0
    offered = [Candidate(sid, symptoms[sid].title, round(100 * p)) for sid, p in ranked
               if sid in symptoms and p >= floor]
    if best is not None:
        others = sorted((sid for sid in certain if sid != best), key=lambda sid: (-certain[sid], sid))
        cands = [Candidate(sid, symptoms[sid].title, 100) for sid in others]
        cands += [c for c in offered if c.id != best and c.id not in certain]
        return Match(Candidate(best, symptoms[best].title, 100), tuple(cands[:3]), found[best].merged(ents), "error")
    if not ranked or ranked[0][1] < mdl.nothing_below:  # nothing the model can tell apart
        return Match(None, (), ents, "")
    (top, p1), p2 = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0.0)
    sure = p1 >= mdl.threshold and p1 - p2 >= mdl.margin
    if top == "other":
        return Match(None, tuple(offered[:3]), ents, "", other=p1 >= mdl.other_threshold)
    if sure and top in symptoms:
        return Match(offered[0], tuple(offered[1:4]), ents, "model")
    return Match(None, tuple(offered[:3]), ents, "")


def _ranked(text: str, model) -> list[tuple[str, float]]:
    """The model's ranking; `model` is a Model or the function that loads one."""
    if not any(ch.isalpha() for ch in text):
        return []
    return (model if hasattr(model, "probabilities") else model()).probabilities(text)


@dataclass(frozen=True)
class Names:
    """Names that exist on the daemon, for spotting them in free text."""

    volumes: tuple[str, ...] = ()
    containers: tuple[str, ...] = ()
    container_ids: tuple[str, ...] = ()


_VOLUME_FLAG_RE = re.compile(r"(?:-v|--volume|--mount)[ =]+['\"]?([^\s'\"]+)")
_NAMED_VOLUME_RE = re.compile(r"\bvolumes?\s+['\"`]?([A-Za-z0-9][\w.\-]*)['\"`]?", re.IGNORECASE)
_STOP = {"not", "is", "does", "doesn", "was", "found", "missing", "in", "the", "a", "an", "create", "created",
         "ls", "rm", "inspect", "prune", "name", "names", "that", "and", "with", "from", "to", "for", "of",
         "mount", "mounts", "mounted", "data", "driver", "plugin", "declared", "already", "exists", "gone", "are", "i"}


# "volume uploads not found": a plain word right before these is the volume's name
_MISSING_AFTER = re.compile(r"['\"`]?\s+(?:is\s+|was\s+)?(?:not\s+found|missing|does\s*n[o']?t\s+exist|not\s+exist"
                            r"|isn'?t\s+found|can'?t\s+be\s+found|could\s+not\s+be\s+found)", re.I)


_MISSING_BEFORE = re.compile(r"\bvolume\b[^.\n]{0,20}?\b(?:not\s+found|missing|does\s*n[o']?t\s+exist)[:\s]+['\"`]?"
                             r"([A-Za-z0-9][\w.\-]*)", re.I)


def _near_volume(word: str, volumes: tuple[str, ...]) -> bool:
    """'mydata' for the volume my-data: a name written a letter or two off, not a plain word."""
    from rapidfuzz.distance import OSA

    w = word.lower()
    return len(w) >= 4 and any(OSA.distance(w, v.lower()) <= (1 if len(w) <= 6 else 2) for v in volumes)


def extract(text: str, names: Names) -> Entities:
    """Volume and container names and absolute paths that the text mentions."""
    text = text[:MAX_TEXT]
    vols: list[str] = []
    paths: list[str] = []
    for m in _VOLUME_FLAG_RE.finditer(text):
        spec = m.group(1)
        if spec.startswith(("type=", "source=", "src=", "target=", "dst=", "destination=")):
            kv = dict(p.split("=", 1) for p in spec.split(",") if "=" in p)
            src = kv.get("source") or kv.get("src")
            if src and not src.startswith(("/", ".", "~")):
                vols.append(src)
            dst = kv.get("target") or kv.get("dst") or kv.get("destination")
            if dst:
                paths.append(dst)
            continue
        parts = spec.split(":")
        if len(parts) >= 2 and parts[0] and not parts[0].startswith(("/", ".", "~", "$")):
            vols.append(parts[0])
        if len(parts) >= 2 and parts[1].startswith("/"):
            paths.append(parts[1])
    for m in _NAMED_VOLUME_RE.finditer(text):
        w = m.group(1)
        if w.lower() not in _STOP and (any(ch in w for ch in "-_.0123456789") or w in names.volumes
                                       or _near_volume(w, names.volumes) or _MISSING_AFTER.match(text, m.end())):
            vols.append(w)
    for m in _MISSING_BEFORE.finditer(text):  # "volume not found: mydata", "not found my_data"
        w = m.group(1)
        if w.lower() not in _STOP and (any(ch in w for ch in "-_.0123456789") or _near_volume(w, names.volumes)):
            vols.append(w)
    tokens = set(TOKEN_RE.findall(text))
    vols += [t for t in tokens if t in names.volumes]
    names_in_errors = set(_CONTAINER_NAME_RE.findall(text))  # 'The container name "/web"' names a container
    for p in PATH_RE.findall(text):
        if not p.startswith(("/var/run/docker", "/run/docker")) and len(p) > 1 and p not in names_in_errors:
            paths.append(p.rstrip(".,;:"))
    words = set(TOKEN_RE.findall(PATH_RE.sub(" ", text)))  # '/app/data/f' names a folder, not the container app
    conts = [t for t in words if t in names.containers]
    if names.container_ids:
        conts += [t for t in tokens if len(t) >= 6 and re.fullmatch(r"[0-9a-f]+", t)
                  and any(i.startswith(t) for i in names.container_ids)]
    return Entities(tuple(dict.fromkeys(vols)), tuple(dict.fromkeys(sorted(conts))), tuple(dict.fromkeys(paths)))
