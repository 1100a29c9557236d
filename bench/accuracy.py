#!/usr/bin/env python3
"""Symptom accuracy on labelled real text: the shipped matcher, side by side with a
TF-IDF + logistic-regression baseline and the earlier phrase matcher.

Usage: python bench/accuracy.py [FILE.jsonl ...] [--cv] [--misses] [--startup] [--base-src DIR] [--no-baseline]
Default files: the frozen test split (tests/data/corpus-test.jsonl), the later held-out set
(tests/data/corpus-later.jsonl: test-side rows that arrived after the freeze, never tuned on),
then the train split. --cv adds cross-validated figures over the train split's threads (the
same 5 folds as scripts/train_matcher.py: each fold's rows matched by a model, and a baseline,
trained on the other folds; the learned model keeps the shipped model's settings and thresholds,
which were themselves chosen on these folds). The baseline and --cv need scikit-learn (the
`train` extra); without it the baseline column is left out.

Per file: top-1 (the first-ranked symptom, answered or offered as choice 1), top-3,
confidently wrong (a symptom answered with confidence that is not the label, as a share of
all rows, and of the confident answers), abstention (no confident symptom), texts/s.
Rows labelled `other` count as right (top-1 and top-3) when no symptom is answered with
confidence. texts/s is the best of three passes (the matcher's typo corrections are
forgotten before each). --startup also times `python -m voldoctor diagnose --offline "volume not found"`
(median of 20 runs, wall and CPU time), and the same for another source tree with --base-src.
"""

from __future__ import annotations

import collections
import importlib.util
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from voldoctor import learned, rules  # noqa: E402
from voldoctor.symptoms import Candidate, Match, match, phrase_match  # noqa: E402

DATA = ROOT / "tests" / "data"
TEST = DATA / "corpus-test.jsonl"
TRAIN = DATA / "corpus-train.jsonl"
LATER = DATA / "corpus-later.jsonl"
LABELS = {TEST: "frozen test split", LATER: "later held-out", TRAIN: "train split"}


def read(path: Path) -> list[dict]:
    return [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]


class Baseline:
    """TF-IDF (word 1-2 grams and char_wb 3-5 grams) + logistic regression on the
    train split. It always answers its first choice, unless that is `other`."""

    name = "tfidf+lr"

    def __init__(self, rows: list[dict], symptoms):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        self.symptoms = symptoms
        self.pipe = make_pipeline(
            make_union(TfidfVectorizer(ngram_range=(1, 2)), TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5))),
            LogisticRegression(C=10, max_iter=5000, random_state=0))
        self.pipe.fit([r["text"] for r in rows], [r["category"] for r in rows])

    def __call__(self, text: str) -> Match:
        p = self.pipe.predict_proba([text])[0]
        ranked = sorted(zip(self.pipe.classes_, p), key=lambda kv: -kv[1])
        cands = [Candidate(c, self.symptoms[c].title, round(100 * q)) for c, q in ranked if c in self.symptoms]
        if ranked[0][0] == "other":
            return Match(None, tuple(cands[:3]), other=True)
        return Match(cands[0], tuple(cands[1:3]), via="model")


def evaluate(fn, rows, passes: int = 1, reset=None):
    per = collections.defaultdict(lambda: [0, 0, 0, 0])  # n, top1, top3, confidently wrong
    confusions = collections.Counter()
    misses = []
    sure = 0
    elapsed = float("inf")
    for _ in range(passes):  # the best pass: the machine may be busy with other work
        if reset:
            reset()
        t0 = time.perf_counter()
        matches = [fn(r["text"]) for r in rows]
        elapsed = min(elapsed, time.perf_counter() - t0)
    for r, m in zip(rows, matches):
        ranked = ([m.symptom] if m.symptom else []) + list(m.candidates)
        ids = [c.id for c in ranked]
        want = r["category"]
        st = per[want]
        st[0] += 1
        if want == "other":
            ok1 = ok3 = m.symptom is None
        else:
            ok1 = bool(ids) and ids[0] == want
            ok3 = want in ids[:3]
        sure += m.symptom is not None
        wrong = m.symptom is not None and m.symptom.id != want
        st[1] += ok1
        st[2] += ok3
        st[3] += wrong
        if not ok1:
            got = m.symptom.id if m.symptom else ("(asks: " + ",".join(ids[:3]) + ")" if ids else "(nothing)")
            confusions[(want, got)] += 1
            misses.append((want, got, r["text"][:100]))
    n = len(rows)
    total = {
        "n": n,
        "top1": sum(v[1] for v in per.values()) / n,
        "top3": sum(v[2] for v in per.values()) / n,
        "wrong": sum(v[3] for v in per.values()) / n,
        "wrong_of_sure": sum(v[3] for v in per.values()) / sure if sure else 0.0,
        "abstain": 1 - sure / n,
        "rate": n / elapsed if elapsed else float("inf"),
    }
    return total, per, confusions, misses


def startup(srcs: list[Path], runs: int = 10) -> list[tuple[float, float]]:
    """Median wall time and median CPU time (user + system, steadier on a busy
    machine) of `diagnose --offline "volume not found"` per source tree; the trees
    take turns, so a busy machine slows them alike."""
    import resource

    walls: list[list[float]] = [[] for _ in srcs]
    cpus: list[list[float]] = [[] for _ in srcs]
    for _ in range(runs):
        for k, src in enumerate(srcs):
            env = dict(os.environ, PYTHONPATH=str(src))
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "voldoctor", "diagnose", "--offline", "volume not found"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
            walls[k].append(time.perf_counter() - t0)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus[k].append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return [(statistics.median(w), statistics.median(c)) for w, c in zip(walls, cpus)]


def cross_validated(symptoms, known, mdl, baseline: bool) -> dict[str, list[Match]]:
    """Per matcher, a Match for every train row (in file order), each from a model
    that never saw the row's thread."""
    spec = importlib.util.spec_from_file_location("train_matcher", ROOT / "scripts" / "train_matcher.py")
    tm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tm)
    rows = [r for r in read(TRAIN) if r["category"] in known]
    classes = sorted(symptoms) + ["other"]
    extra = tm.catalogue_rows(symptoms)
    keep = {w for r in extra for w in learned.features(r["text"])[0]}
    meta = mdl.meta
    out: dict[str, list] = {"learned": [None] * len(rows)}
    if baseline:
        out[Baseline.name] = [None] * len(rows)
    for k in range(tm.FOLDS):
        fit_rows = [r for r in rows if tm.fold_of(r["thread"]) != k]
        held = [i for i, r in enumerate(rows) if tm.fold_of(r["thread"]) == k]
        m = learned.Model(*tm.fit(fit_rows + extra, classes, keep, meta["C"], meta.get("class_weight"),
                                  threshold=mdl.threshold, margin=mdl.margin, min_candidate=mdl.min_candidate,
                                  nothing_below=mdl.nothing_below, other_threshold=mdl.other_threshold))
        base = Baseline(fit_rows, symptoms) if baseline else None
        for i in held:
            out["learned"][i] = match(rows[i]["text"], symptoms, model=m)
            if base:
                out[Baseline.name][i] = base(rows[i]["text"])
    return out


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    flags = {a for a in argv if a.startswith("-")}
    args = [a for a in argv if not a.startswith("-")]
    base_src = None
    if "--base-src" in argv:
        base_src = Path(argv[argv.index("--base-src") + 1])
        args.remove(str(base_src))
    files = [Path(a) for a in args] or [f for f in (TEST, LATER, TRAIN) if f.exists()]
    symptoms = rules.load().symptoms
    known = set(symptoms) | {"other"}

    t0 = time.perf_counter()
    mdl = learned.model()
    load_ms = (time.perf_counter() - t0) * 1000
    size = learned.MODEL_PATH.stat().st_size + learned.WEIGHTS_PATH.stat().st_size
    meta = mdl.meta
    print(f"model: {learned.MODEL_PATH.relative_to(ROOT / 'src')} and .weights ({size / 1024:.0f} KiB), loaded in "
          f"{load_ms:.1f} ms; threshold {mdl.threshold:.2f}, margin {mdl.margin:.2f} (chosen by cross-validation on "
          f"{meta.get('train_rows', '?')} train rows: top-1 {meta.get('cv_top1', 0):.1%}, confident answers wrong "
          f"{meta.get('cv_confident_wrong', 0):.1%})")

    matchers = [("learned", lambda t: match(t, symptoms))]
    if "--no-baseline" not in flags:
        try:
            base = Baseline([r for r in read(TRAIN) if r["category"] in known], symptoms)
            matchers.append((base.name, base))
        except ImportError:
            print("(no scikit-learn: the baseline is left out; pip install '.[train]')")
    matchers.append(("phrase (old)", lambda t: phrase_match(t, symptoms)))

    runs = [(f, None) for f in files]
    if "--cv" in flags:
        runs.append((TRAIN, cross_validated(symptoms, known, mdl, len(matchers) > 2)))
    for f, cv in runs:
        rows = [r for r in read(f) if r["category"] in known]
        label = next((v for k, v in LABELS.items() if f.resolve() == k.resolve()), "")
        note = " (the model was trained on these rows)" if f.resolve() == TRAIN.resolve() and cv is None else ""
        if cv is not None:
            label, note = "train split, cross-validated over threads", ""
        print(f"\n== {label + ': ' if label else ''}{f.relative_to(ROOT) if f.is_relative_to(ROOT) else f}: "
              f"{len(rows)} rows{note}")
        results = []
        for name, fn in matchers:
            if cv is not None:
                if name not in cv:
                    continue
                it = iter(cv[name])
                results.append((name, *evaluate(lambda t: next(it), rows)))
                continue
            reset = mdl.forget if name == "learned" else None
            results.append((name, *evaluate(fn, rows, 5, reset)))
        print(f"{'':<14}" + "".join(f"{name:>14}" for name, *_ in results))
        for key, label, fmt in (("top1", "top-1", "{:.1%}"), ("top3", "top-3", "{:.1%}"),
                                ("wrong", "sure, wrong", "{:.1%}"), ("wrong_of_sure", " of sure", "{:.1%}"),
                                ("abstain", "abstains", "{:.1%}"),
                                *((("rate", "texts/s", "{:,.0f}"),) if cv is None else ())):
            print(f"{label:<14}" + "".join(f"{fmt.format(res[key]):>14}" for _, res, *_ in results))
        print(f"\n{'top-1 / sure-wrong':<24} {'n':>4}" + "".join(f"{name:>16}" for name, *_ in results))
        for sid in sorted(results[0][2]):
            k = results[0][2][sid][0]
            cells = "".join(f"{per[sid][1] / k:>9.0%} /{per[sid][3]:>3} " for _, _, per, *_ in results)
            print(f"{sid:<24} {k:>4}" + cells)
        _, _, _, confusions, misses = results[0]
        if confusions:
            print("learned: confusions (wanted -> got):")
            for (w, g), c in confusions.most_common(12):
                print(f"  {c:>3}  {w} -> {g}")
        if "--misses" in flags or "-v" in flags:
            for w, g, t in misses:
                print(f"  MISS {w} -> {g}: {t}")

    if "--startup" in flags:
        srcs = [ROOT / "src"] + ([base_src] if base_src else [])
        runs = 20
        got = startup(srcs, runs)
        print(f"\nstart-up, diagnose --offline \"volume not found\" (median of {runs}): "
              f"{got[0][0]:.3f} s wall, {got[0][1]:.3f} s CPU")
        if base_src:
            print(f"  the same with {base_src}: {got[1][0]:.3f} s wall, {got[1][1]:.3f} s CPU")


if __name__ == "__main__":
    main(sys.argv[1:])
