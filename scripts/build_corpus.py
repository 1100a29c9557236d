#!/usr/bin/env python3
"""Merge the labelled real texts into tests/data/corpus.jsonl and split them.

Sources (read in this order; a later near-duplicate of an earlier row is dropped):
  the collection files the frozen test split was built from (FROZEN_SOURCES, in their order)
  /work/shared/eval/symptoms-dev.jsonl
  tests/data/phrasings.jsonl
  any other /work/corpus/*.jsonl (arrived after the freeze; sorted by name)
Other files can be given with --source FILE (repeatable) instead.
Reading the files of the freeze first means a new row never displaces an earlier one:
it is dropped when it near-duplicates a row already kept.

Split: by thread. The thread key is the source_url, normalised (a GitHub issue or
pull request and its comments are one thread, a Stack Exchange question and its
answers are one thread, a forum topic is one thread). A thread is on the test side when
sha256(thread key) mod 100 < 30. The rule depends only on the key, so adding rows
never moves a thread from one side to the other.

The test split is frozen: tests/data/corpus-test.jsonl is read, never grown or shrunk.
A test-side row that is not in it arrived after the freeze: when it came in the newest
round (files named LATER_ROUND*) or its thread is in the test split, it goes to
tests/data/corpus-later.jsonl, a second held-out set; a test-side thread of an earlier
round after the freeze was measured as held-out when it was new and now trains.
Train-side rows go to train.
If the sources no longer give every frozen test row, the script stops.

Usage: python scripts/build_corpus.py [--source FILE ...] [--check]
--check exits 1 if the written files would change (for CI).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data"
COLLECTION = Path("/work/corpus")
# the collection files the frozen test split was built from, in the order they were read then
FROZEN_SOURCES = [COLLECTION / f"{n}.jsonl" for n in ("apps", "desktop", "moby", "qa", "thin")]
DEFAULT_SOURCES = [*FROZEN_SOURCES, Path("/work/shared/eval/symptoms-dev.jsonl"),
                   ROOT / "tests" / "data" / "phrasings.jsonl",
                   *sorted(p for p in COLLECTION.glob("*.jsonl") if p not in FROZEN_SOURCES)]
FROZEN_TEST = OUT / "corpus-test.jsonl"
SPLITS = ("train", "test", "later")
TEST_PERCENT = 30
LATER_ROUND = "w7-"  # the newest collection round: its test-side threads are the later held-out set
NEAR = 92  # token_set_ratio at or above this (for texts of similar length) is a near-duplicate
MAX_CHARS = 600

sys.path.insert(0, str(ROOT / "src"))


def clean(text: str) -> str:
    """One line of plain text: NFKC, no control characters, single spaces."""
    t = unicodedata.normalize("NFKC", text)
    t = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in t)
    t = re.sub(r"\s+", " ", t).strip()
    return t[:MAX_CHARS]


_HEX = re.compile(r"\b[0-9a-f]{12,}\b")
_PATH = re.compile(r"(?:[A-Za-z]:)?[\\/][\w.@+\-\\/]*")
_QUOTED = re.compile(r"[\"'`‘’“”]([^\"'`‘’“”\s]{1,60})[\"'`‘’“”]")
_NUM = re.compile(r"\d+")


def skeleton(text: str) -> str:
    """The text with paths, ids, quoted names and numbers replaced: two rows that
    differ only there are the same row."""
    t = text.lower()
    t = _HEX.sub("<id>", t)
    t = _PATH.sub("<path>", t)
    t = _QUOTED.sub("<name>", t)
    t = _NUM.sub("0", t)
    t = re.sub(r"[^\w<>]+", " ", t)
    return " ".join(t.split())


def thread_key(url: str) -> str:
    u = urlsplit(url.strip())
    host = u.netloc.lower().removeprefix("www.")
    parts = [p for p in u.path.split("/") if p]
    if host == "github.com" and len(parts) >= 4 and parts[2] in ("issues", "pull", "pulls", "discussions"):
        kind = "discussions" if parts[2] == "discussions" else "issues"  # issue and PR numbers share a space
        return f"github.com/{parts[0].lower()}/{parts[1].lower()}/{kind}/{parts[3]}"
    if host == "github.com" and len(parts) >= 2:
        return "github.com/" + "/".join(parts).lower()
    if len(parts) >= 2 and parts[0] in ("questions", "q") and parts[1].isdigit():  # Stack Exchange sites
        return f"{host}/questions/{parts[1]}"
    if len(parts) >= 2 and parts[0] == "t":  # Discourse forums: /t/slug/ID[/post]
        ids = [p for p in parts[1:] if p.isdigit()]
        if ids:
            return f"{host}/t/{ids[0]}"
    return host + "/" + "/".join(parts)


def in_test(key: str) -> bool:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100 < TEST_PERCENT


def load(paths: list[Path], labels: set[str]) -> tuple[list[dict], dict[str, int]]:
    stats = {"read": 0, "no_url": 0, "bad_label": 0, "empty": 0, "unreadable": 0}
    rows = []
    for p in paths:
        if not p.exists():
            continue
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError:  # a file still being written ends in half a line
                stats["unreadable"] += 1
                continue
            stats["read"] += 1
            text = clean(r.get("text", ""))
            url = (r.get("source_url") or "").strip()
            cat = r.get("category", "")
            if not text:
                stats["empty"] += 1
                continue
            if not url:
                stats["no_url"] += 1
                continue
            if cat not in labels:
                stats["bad_label"] += 1
                continue
            row = {"text": text, "category": cat, "kind": r.get("kind") or "user", "source_url": url,
                   "source": r.get("source") or p.stem}
            if r.get("note"):
                row["note"] = clean(r["note"])
            rows.append(row)
    return rows, stats


def dedupe(rows: list[dict]) -> tuple[list[dict], int, int]:
    """Drop exact and near-duplicate texts, keeping the first. Returns the rows
    kept, how many were dropped, and how many of those disagreed on the label."""
    kept: list[dict] = []
    kept_proc: list[str] = []
    kept_len: list[int] = []
    skeletons: dict[str, int] = {}
    dropped = disagree = 0
    for r in rows:
        sk = skeleton(r["text"])
        dup = skeletons.get(sk)
        proc = " ".join(re.sub(r"[^\w]+", " ", r["text"].lower()).split())
        n = max(1, len(proc.split()))
        if dup is None and kept_proc:
            scores = process.cdist([proc], kept_proc, scorer=fuzz.token_set_ratio, score_cutoff=NEAR, workers=1)[0]
            for i in scores.nonzero()[0]:
                a, b = sorted((n, kept_len[i]))
                if a / b >= 0.75:  # a short text inside a long one is not its duplicate
                    dup = int(i)
                    break
        if dup is not None:
            dropped += 1
            disagree += kept[dup]["category"] != r["category"]
            continue
        skeletons[sk] = len(kept)
        kept.append(r)
        kept_proc.append(proc)
        kept_len.append(n)
    return kept, dropped, disagree


def dump(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", action="append", type=Path, help="a labelled .jsonl file (default: the usual ones)")
    ap.add_argument("--check", action="store_true", help="exit 1 if the output would change")
    args = ap.parse_args(argv)
    from voldoctor import rules

    labels = set(rules.load().symptoms) | {"other"}
    rows, stats = load(args.source or DEFAULT_SOURCES, labels)
    rows, dropped, disagree = dedupe(rows)
    frozen = FROZEN_TEST.read_text(encoding="utf-8") if FROZEN_TEST.exists() else None
    pinned = {json.loads(l)["text"] for l in (frozen or "").splitlines() if l.strip()}
    first_round: dict[str, str] = {}  # thread -> the collection its first row came in
    for r in rows:
        r["thread"] = thread_key(r["source_url"])
        first_round.setdefault(r["thread"], r["source"])
    test_threads = {r["thread"] for r in rows if r["text"] in pinned}
    for r in rows:
        if not in_test(r["thread"]):
            r["split"] = "train"
        elif frozen is None or r["text"] in pinned:
            r["split"] = "test"
        else:  # arrived after the freeze: held out when of the newest round or of a thread in the test split
            late = first_round[r["thread"]].startswith(LATER_ROUND) or r["thread"] in test_threads
            r["split"] = "later" if late else "train"
    files = {
        "corpus.jsonl": dump(rows),
        **{f"corpus-{s}.jsonl": dump([r for r in rows if r["split"] == s]) for s in SPLITS},
    }
    if frozen is not None and files["corpus-test.jsonl"] != frozen:
        got = {r["text"] for r in rows if r["split"] == "test"}
        print(f"the frozen test split would change ({len(pinned - got)} of its rows missing, or their order or "
              f"fields changed); it is never rewritten: restore the sources it was built from", file=sys.stderr)
        return 2
    changed = [n for n, s in files.items() if not (OUT / n).exists() or (OUT / n).read_text(encoding="utf-8") != s]
    if args.check:
        print("up to date" if not changed else "would change: " + ", ".join(changed))
        return 1 if changed else 0
    for n, s in files.items():
        (OUT / n).write_text(s, encoding="utf-8")
    threads = {r["thread"] for r in rows}
    print(f"read {stats['read']} rows; skipped {stats['no_url']} without source_url, {stats['bad_label']} with an "
          f"unknown label, {stats['empty']} empty, {stats['unreadable']} unreadable; dropped {dropped} duplicates ({disagree} of them with another label)")
    print(f"kept {len(rows)} rows from {len(threads)} threads: " + ", ".join(
        f"{s} {sum(r['split'] == s for r in rows)} ({len({r['thread'] for r in rows if r['split'] == s})} threads)"
        for s in SPLITS))
    print()
    print(table(rows))
    return 0


def table(rows: list[dict]) -> str:
    """Rows per label and split, as a markdown table."""
    out = ["| label | " + " | ".join(SPLITS) + " |", "|---|" + "---:|" * len(SPLITS)]
    for cat in sorted({r["category"] for r in rows}):
        n = [sum(r["category"] == cat and r["split"] == s for r in rows) for s in SPLITS]
        out.append(f"| `{cat}` | " + " | ".join(map(str, n)) + " |")
    n = [sum(r["split"] == s for r in rows) for s in SPLITS]
    out.append(f"| all ({len(rows)} rows, {len({r['thread'] for r in rows})} threads) | " + " | ".join(map(str, n)) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
