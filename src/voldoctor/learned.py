"""The learned symptom matcher: a linear model over word and character n-grams.

Trained by scripts/train_matcher.py (scikit-learn, at build time only) and shipped
as model/matcher.json (vocabulary, idf, thresholds) and model/matcher.weights. Here
it runs in plain Python: the text is normalised, words missing from the model's
vocabulary are corrected when one edit away from a known word, n-grams are
counted, and the class scores are dot products followed by a softmax.

Speed: every feature's weights for all classes are packed into one Python int
(one 32-bit field per class, offset to be non-negative), so a text's score is a
sum of a few hundred ints, done in C by sum(map(...)), instead of a few thousand
float additions. The files are read the first time free text needs them, and a
feature's weights are unpacked the first time a text uses it.
"""

from __future__ import annotations

import array
import base64
import json
import math
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional

MODEL_PATH = Path(__file__).resolve().parent / "model" / "matcher.json"  # vocabulary, idf, thresholds
WEIGHTS_PATH = MODEL_PATH.with_suffix(".weights")  # uint16 little-endian, features x classes
MAX_TEXT = 4000
CHAR_N = (3, 5)
OFFSET = 1 << 15  # a quantised weight q is stored as q + OFFSET, in 0..65535
FIELD = 32  # bits per class in a packed feature

_HEX = re.compile(r"\b[0-9a-f]{12,}\b")
_NUM = re.compile(r"\d+")
_WORD = re.compile(r"[a-z0-9]+")
_ALPHA = re.compile(r"[a-z]{4,}")

# Where the learner is: the same words mean different causes on Docker Desktop, WSL,
# docker-machine, a snap install or a rootless daemon. Each cue is one extra feature;
# the patterns see the text in lower case.
CUES: tuple[tuple[str, re.Pattern], ...] = tuple((name, re.compile(rx)) for name, rx in (
    ("mac", r"\b(?:mac ?os|osx|os x|macbook|mac|m1|m2|apple silicon)\b|/users/"),
    ("windows", r"\b(?:windows|win10|win11|powershell|cmd\.exe|cmd)\b|[a-z]:\\\\?|%cd%|\\\\"),
    ("desktop", r"docker[ -]desktop|docker for (?:mac|windows)|docker\.app|hyperkit|virtualization\.framework"),
    ("wsl", r"\bwsl2?\b|/mnt/[a-z]/|\\\\wsl"),
    ("machine", r"docker-machine|boot2docker|virtualbox|toolbox"),
    ("snap", r"\bsnap\b|/snap/"),
    ("rootless", r"rootless|dockerd-rootless|/run/user/\d+|podman"),
    ("compose", r"docker[ -]compose|compose\.ya?ml|compose (?:up|down)"),
    ("selinux", r"selinux|:z\b|enforcing|avc: denied"),
    ("command", r"(?:^|\s)(?:sudo\s+)?docker(?:\.exe)?\s+(?:run|create|volume|container|compose|rm)(?=\s+\S)"),
    ("mountflag", r"(?:^|\s)(?:-v|--volume|--mount)[ =]"),
    ("pwd", r"\$\(pwd\)|\$\{pwd\}|\$pwd|%cd%|`pwd`"),
    ("dbimage", r"postgres|mysql|mariadb|mongo|redis|\bpg\b"),
))


# What the words are about, whichever words say it: "vanished", "wiped" and "gone"
# all say lost; "chown", "uid" and "eacces" all say ownership. One feature per
# concept present lets a phrasing the corpus never used still count with the words
# it did use. Keys are words or word pairs as the model sees them (lower case,
# digits as 0, split at anything but letters and digits).
CONCEPTS: dict[str, str] = {
    "lost": "lost lose losing loses gone disappear disappears disappeared disappearing vanish vanished vanishes "
            "wiped erased erase missing empty reset blank fresh persist persists persisted persistent persistence "
            "persistance survive survives kept keep retain retained|data loss|all data",
    "remove": "rm remove removed removing removes delete deleted deleting deletes prune pruned pruning clean cleanup "
              "purge purged destroy destroyed down",
    "recreate": "recreate recreated recreating restart restarted restarting reboot rebooted rebuild rebuilt rerun "
                "update updated updating upgrade upgraded upgrading redeploy redeployed",
    "owner": "permission permissions denied eacces eperm forbidden chown chmod owner owned ownership uid gid root "
             "sudo writable unwritable|non root",
    "readonly": "readonly ro rofs|read only",
    "space": "space disk full storage size growing grows grow huge gb mb bytes df du quota inode inodes bloat bloated",
    "where": "where location locate located stored store find path folder directory browse explorer finder",
    "notfound": "undefined unknown nonexistent inexistent|not found|no such|not exist|doesn t|does not|cannot find"
                "|can t|could not",
    "invalid": "invalid malformed syntax incorrect format spec specification",
    "conflict": "conflict conflicts already taken assigned|in use|already exists",
    "port": "port ports allocated listen listening bind address",
    "daemon": "daemon dockerd socket sock engine systemctl service",
    "image": "image images pull pulled pulling registry repository tag manifest hub login",
    "settings": "password passwd passwords credential credentials auth authentication env environment variable "
                "variables init initdb initialized initialize initialise",
    "share": "share shared sharing resources preferences settings drive drives allowed",
    "hide": "hide hides hidden overwrite overwritten overwrites override overrides shadow shadows replaced vendor "
            "reflected sync synced|node modules",
    "anonymous": "anonymous unnamed random hash hashes dangling pile piling",
    "network": "network networks networking dns http https connect connection proxy curl ping bridge nginx reverse",
    "build": "build building builds dockerfile copy add layer cache compile",
    "cluster": "kubernetes k0s kubectl pvc pod pods helm swarm",
}


def _concept_index() -> dict[str, tuple[str, ...]]:
    """Word or word pair -> the concept features it names."""
    index: dict[str, tuple[str, ...]] = {}
    for name, spec in CONCEPTS.items():
        words, *pairs = spec.split("|")
        for key in (*words.split(), *pairs):
            index[key] = (*index.get(key, ()), "__k_" + name)
    return index


_CONCEPT_OF = _concept_index()


def concepts(words: list[str]) -> list[str]:
    """The concepts that the text's words and word pairs name, each once, as feature names."""
    found = {c for w in words for c in _CONCEPT_OF.get(w, ())}
    return sorted(found)


def normalise(text: str) -> str:
    t = text[:MAX_TEXT].lower()
    t = _HEX.sub(" hexid ", t)
    return _NUM.sub("0", t)


# Text that every match of a cue contains: a cue's regex runs only when one is there (a substring test
# costs far less than a search, and most texts name no platform).
NEEDLES: dict[str, tuple[str, ...]] = {
    "mac": ("mac", "osx", "os x", "m1", "m2", "apple", "/users/"),
    "windows": ("windows", "win1", "powershell", "cmd", "\\", "%cd%"),
    "desktop": ("desktop", "docker for", "docker.app", "hyperkit", "virtualization"),
    "wsl": ("wsl", "/mnt/"), "machine": ("machine", "boot2docker", "virtualbox", "toolbox"), "snap": ("snap",),
    "rootless": ("rootless", "/run/user/", "podman"), "compose": ("compose",),
    "selinux": ("selinux", ":z", "enforcing", "avc"), "command": ("docker",), "mountflag": ("-v", "--volume", "--mount"),
    "pwd": ("pwd", "%cd%"), "dbimage": ("postgres", "mysql", "mariadb", "mongo", "redis", "pg"),
}


def cues(text: str) -> list[str]:
    """The platform and context cues in the text, as feature names."""
    low = text[:MAX_TEXT].lower()
    return ["__" + name for name, rx in CUES if any(n in low for n in NEEDLES[name]) and rx.search(low)]


def features(text: str, fix: Optional[Callable[[str], str]] = None) -> tuple[list[str], list[str]]:
    """Word features (unigrams, bigrams, concepts, platform cues) and character n-grams
    (3 to 5, over the text with single spaces and a space at each end), one entry
    per occurrence: a feature's count is how often it appears."""
    words, grams, _ = _features(text, fix)
    return words, grams


def _features(text: str, fix: Optional[Callable[[str], str]]) -> tuple[list[str], list[str], bool]:
    """features(), and whether a word was corrected."""
    t = normalise(text)
    ws = _WORD.findall(t)
    fixed = {}
    if fix is not None:
        fixed = {w: f for w in set(_ALPHA.findall(t)) if (f := fix(w)) != w}
        if fixed:
            t = _ALPHA.sub(lambda m: fixed.get(m.group(), m.group()), t)
            ws = _WORD.findall(t)
    words = ws + [a + " " + b for a, b in zip(ws, ws[1:])]
    words += concepts(words) + cues(text)
    s = " " + " ".join(t.split()) + " "
    grams: list[str] = []
    for n in range(CHAR_N[0], CHAR_N[1] + 1):
        grams += [s[i:i + n] for i in range(len(s) - n + 1)]
    return words, grams, bool(fixed)


DOCKER_WORDS = frozenset(
    "docker dockerd container containers volume volumes mount mounted mounting mounts bind compose image images "
    "dockerfile data file files folder folders directory db database app run exec swarm desktop wsl error errors "
    "postgres mysql nginx".split())


def footing(text: str, words: list[str]) -> bool:
    """The text says something Docker-like: a word from DOCKER_WORDS, a concept or platform cue, a path."""
    return "/" in text or "\\" in text or any(w in DOCKER_WORDS or w.startswith("__") for w in words)


_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY_AT = {ch: (r, i) for r, row in enumerate(_ROWS) for i, ch in enumerate(row)}


def slipped_key(typed: str, word: str) -> bool:
    """One edit from `word` that a finger makes: a letter swapped with the next, dropped, doubled or
    added, or struck on a neighbouring key. A different letter far away on the keyboard makes
    another word ('posts' is not 'ports', 'bread' is not 'break')."""
    if len(typed) != len(word):
        return True
    diff = [(a, b) for a, b in zip(typed, word) if a != b]
    if len(diff) != 1:
        return True  # a swap of two letters
    (a, b), = diff
    if a not in _KEY_AT or b not in _KEY_AT:
        return a.isdigit() == b.isdigit()
    (ra, ia), (rb, ib) = _KEY_AT[a], _KEY_AT[b]
    return abs(ra - rb) <= 1 and abs(ia - ib + (ra - rb) * 0.5) <= 1  # rows sit half a key apart


# A block's value for a feature f with count tf and inverse document frequency idf is
# tf * idf / sqrt(sum over the text's known features of tf * idf**2): tf-idf scaled so
# that each occurrence counts once in the norm. Training uses the same formula.

class _Packed(dict):
    """Feature id -> its weights for every class packed into one int, decoded from
    the weights file the first time a text uses the feature (start-up stays fast)."""

    def __init__(self, raw: bytes, n_classes: int):
        super().__init__()
        self.raw = raw
        self.c = n_classes

    def __missing__(self, i: int) -> int:
        c = self.c
        fields = array.array("H")
        fields.frombytes(self.raw[2 * c * (i - 1): 2 * c * i])
        if sys.byteorder != "little":
            fields.byteswap()
        slots = array.array("I", fields.tolist())
        if sys.byteorder != "little":
            slots.byteswap()
        p = self[i] = int.from_bytes(slots.tobytes(), "little")
        return p


class Block:
    """One feature block: vocabulary, squared idf, packed weights."""

    def __init__(self, names: list[str], idf2: array.array, raw: bytes, n_classes: int):
        # ids start at 1, so that filter(None, ...) drops unknown features (None) in C
        self.index = dict(zip(names, range(1, len(names) + 1)))
        self.idf2 = array.array("f", [0.0]) + idf2
        self.packed = _Packed(raw, n_classes)
        self.c = n_classes

    def score(self, occurrences: list[str]) -> Optional[list[float]]:
        """Per class, the block's contribution to the logit (before scaling);
        None when no feature is known."""
        ids = list(filter(None, map(self.index.get, occurrences)))
        if not ids:
            return None
        total = sum(map(self.packed.__getitem__, ids))
        norm = math.sqrt(math.fsum(map(self.idf2.__getitem__, ids)))
        mask = (1 << FIELD) - 1
        base = len(ids) * OFFSET
        return [(((total >> (FIELD * k)) & mask) - base) / norm for k in range(self.c)]


class Model:
    def __init__(self, doc: dict, weights: bytes):
        self.meta: dict = doc.get("meta", {})
        self.classes: list[str] = doc["classes"]
        self.bias: list[float] = doc["bias"]
        self.scale: float = doc["scale"]
        self.threshold: float = doc["threshold"]
        self.margin: float = doc.get("margin", 0.0)
        self.min_candidate: float = doc.get("min_candidate", 0.05)
        self.other_threshold: float = doc.get("other_threshold", self.threshold)
        self.nothing_below: float = doc.get("nothing_below", 0.0)
        c = len(self.classes)
        blocks = []
        off = 0
        for name in ("words", "chars"):
            names = doc[name].split("\n") if doc[name] else []
            idf2 = array.array("f")
            idf2.frombytes(base64.b64decode(doc[name + "_idf2"]))
            if sys.byteorder != "little":
                idf2.byteswap()
            end = off + 2 * c * len(names)
            blocks.append(Block(names, idf2, weights[off:end], c))
            off = end
        if off != len(weights):
            raise ValueError(f"the weights file has {len(weights)} bytes, the vocabulary wants {off}")
        self.words, self.chars = blocks
        self._by_len: Optional[dict[tuple[str, int], list[str]]] = None
        self._near: dict[tuple[str, int, int], list[str]] = {}
        self.fix = lru_cache(maxsize=8192)(self._fix)

    def forget(self) -> None:
        """Drop the typo corrections learned so far (for timing a cold start)."""
        self.fix.cache_clear()
        self._near.clear()
        self._by_len = None

    def _fix(self, word: str) -> str:
        """A word the model does not know, corrected to a known word one edit away
        (two for words of eight letters or more; a swap of two letters is one edit)
        with the same first letter; on a tie, one of the same length, then the more
        frequent."""
        if word in self.words.index:
            return word
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        if self._by_len is None:  # known words by first letter and length, most frequent first
            self._by_len = {}
            for w in self.words.index:
                if w.isalpha():
                    self._by_len.setdefault((w[0], len(w)), []).append(w)
        n = len(word)
        k = 1 if n <= 7 else 2
        key = (word[0], n, k)
        bucket = self._near.get(key)
        if bucket is None:  # same length first (a typo rarely adds or drops a letter)
            lengths = [n] + [x for d in range(1, k + 1) for x in (n - d, n + d)]
            bucket = self._near[key] = [w for x in lengths for w in self._by_len.get((word[0], x), ())]
        if not bucket:
            return word
        hit = process.extractOne(word, bucket, scorer=OSA.distance, score_cutoff=k)
        if hit is None or k > 1 or slipped_key(word, hit[0]):
            return hit[0] if hit else word
        # the closest known word is not a slip of a finger: the closest one that is, fewest edits first,
        # then the bucket's order (same length, commoner)
        hits = process.extract(word, bucket, scorer=OSA.distance, score_cutoff=k, limit=None)
        return next((w for w, _, _ in sorted(hits, key=lambda h: (h[1], h[2])) if slipped_key(word, w)), word)

    def probabilities(self, text: str, fix: bool = True) -> list[tuple[str, float]]:
        """Every class with its probability, most likely first; [] when the
        text holds nothing the model knows, when `other` comes first and the text has
        no Docker footing (see footing()), or when it says something only as
        its typos are corrected: the text as written points to a symptom and the
        corrected text to `other` (not a volume problem). The corrections then
        made the text something else rather than clearer ("bake bread" read as
        "base break"), and neither reading is to be trusted. Cross-validated over
        the train threads, the rule leaves top-1 as it was (one row in 1,271
        changes), and every typo that names a symptom's own words still ranks it."""
        wf, cf, changed = _features(text, self.fix if fix else None)
        ranked = self._ranked(wf, cf)
        if ranked and ranked[0][0] == "other" and not footing(text, wf):
            return []  # most likely not a volume problem, and not one Docker word to go by ("how do I bake bread")
        if changed and ranked and ranked[0][0] == "other":
            raw = self._ranked(*features(text))
            if raw and raw[0][0] != "other":
                return []
        return ranked

    def _ranked(self, wf: list[str], cf: list[str]) -> list[tuple[str, float]]:
        sw = self.words.score(wf)
        sc = self.chars.score(cf)
        if sw is None and sc is None:
            return []
        logits = list(self.bias)
        for s in (sw, sc):
            if s is not None:
                logits = [b + self.scale * x for b, x in zip(logits, s)]
        top = max(logits)
        exps = [math.exp(x - top) for x in logits]
        z = sum(exps)
        return sorted(zip(self.classes, (e / z for e in exps)), key=lambda kv: (-kv[1], kv[0]))


@lru_cache(maxsize=1)
def model() -> Model:
    with open(MODEL_PATH, "rb") as f:
        doc = json.loads(f.read())
    with open(WEIGHTS_PATH, "rb") as f:
        return Model(doc, f.read())


def export(classes: list[str], bias: list[float], word_names: list[str], word_idf: list[float],
           char_names: list[str], char_idf: list[float], word_coef, char_coef, *, threshold: float,
           margin: float = 0.0, min_candidate: float = 0.05, nothing_below: float = 0.0,
           other_threshold: float = 0.5, meta: Optional[dict] = None) -> tuple[dict, bytes]:
    """The model document and its weights file, for weights already multiplied by
    idf. word_coef and char_coef are per-feature lists of per-class weights."""
    c = len(classes)
    peak = max([abs(w) for row in (*word_coef, *char_coef) for w in row] or [1.0])
    scale = peak / (OFFSET - 1)
    raw = array.array("H")
    for row in (*word_coef, *char_coef):
        assert len(row) == c
        raw.extend(max(0, min(2 * OFFSET - 1, round(w / scale) + OFFSET)) for w in row)
    if sys.byteorder != "little":
        raw.byteswap()

    def squares(xs):
        a = array.array("f", [x * x for x in xs])
        if sys.byteorder != "little":
            a.byteswap()
        return base64.b64encode(a.tobytes()).decode()

    doc = {
        "format": 1,
        "meta": meta or {},
        "classes": classes,
        "bias": [round(b, 6) for b in bias],
        "scale": scale,
        "threshold": threshold,
        "margin": margin,
        "min_candidate": min_candidate,
        "nothing_below": nothing_below,
        "other_threshold": other_threshold,
        "words": "\n".join(word_names),
        "words_idf2": squares(word_idf),
        "chars": "\n".join(char_names),
        "chars_idf2": squares(char_idf),
    }
    return doc, raw.tobytes()
