#!/usr/bin/env python3
"""Symptom accuracy on labelled phrasings: top-1, top-3, per symptom, confusions.

Usage: python bench/accuracy.py [FILE.jsonl ...]
(default: tests/data/phrasings.jsonl)
Rows labelled `other` count as right when nothing is matched with confidence.
"""

from __future__ import annotations

import collections
import json
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from voldoctor import rules  # noqa: E402
from voldoctor.symptoms import match  # noqa: E402


def evaluate(rows, symptoms):
    per = collections.defaultdict(lambda: [0, 0, 0])  # n, top1, top3
    wrong_sure = [0]
    confusions = collections.Counter()
    misses = []
    for r in rows:
        m = match(r["text"], symptoms)
        ranked = ([m.symptom] if m.symptom else []) + list(m.candidates)
        ids = [c.id for c in ranked]
        want = r["category"]
        st = per[want]
        st[0] += 1
        if want == "other":
            ok1 = ok3 = m.symptom is None
        else:
            # top-1: the first-ranked symptom, whether voldoctor is sure enough to
            # answer or asks with it as choice 1
            ok1 = bool(ids) and ids[0] == want
            ok3 = want in ids[:3]
        if m.symptom is not None and m.symptom.id != want:
            wrong_sure[0] += 1
        st[1] += ok1
        st[2] += ok3
        if not ok1:
            got = m.symptom.id if m.symptom else ("(asks: " + ",".join(ids[:3]) + ")" if ids else "(nothing)")
            confusions[(want, got)] += 1
            misses.append((want, got, r["text"][:100]))
    return per, confusions, misses, wrong_sure[0]


def main(argv):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    files = [Path(a) for a in argv] or [ROOT / "tests/data/phrasings.jsonl"]
    rows = [json.loads(l) for f in files for l in f.read_text().splitlines() if l.strip()]
    symptoms = rules.load().symptoms
    known = set(symptoms) | {"other"}
    skipped = [r for r in rows if r["category"] not in known]
    rows = [r for r in rows if r["category"] in known]
    per, confusions, misses, wrong_sure = evaluate(rows, symptoms)
    n = sum(v[0] for v in per.values())
    t1 = sum(v[1] for v in per.values())
    t3 = sum(v[2] for v in per.values())
    print(f"rows: {n} from {', '.join(str(f) for f in files)}"
          + (f" ({len(skipped)} skipped: labels not in the catalogue)" if skipped else ""))
    print(f"top-1: {t1 / n:.1%}   top-3: {t3 / n:.1%}   answered with confidence but wrong: {wrong_sure} "
          f"({wrong_sure / n:.1%})")
    print(f"{'symptom':<24} {'n':>4} {'top-1':>7} {'top-3':>7}")
    for sid, (k, a, b) in sorted(per.items()):
        print(f"{sid:<24} {k:>4} {a / k:>7.0%} {b / k:>7.0%}")
    if confusions:
        print("confusions (wanted -> got):")
        for (w, g), c in confusions.most_common(15):
            print(f"  {c:>3}  {w} -> {g}")
    if "-v" in sys.argv or "--misses" in sys.argv:
        for w, g, t in misses:
            print(f"  MISS {w} -> {g}: {t}")


if __name__ == "__main__":
    main([a for a in sys.argv[1:] if not a.startswith("-")])
