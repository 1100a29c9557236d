#!/usr/bin/env python3
"""Time `voldoctor summarize` over a few hundred reports (built from the
captured snapshots in tests/data/snapshots)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from voldoctor import report, rules, state as st  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300


def main():
    rs = rules.load()
    snaps = sorted((ROOT / "tests/data/snapshots").glob("*.json"))
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for i in range(N):
            s = st.loads(json.dumps(json.loads(snaps[i % len(snaps)].read_text())["state"]))
            rep = report.build(s, rs)
            rep["machine"] = f"learner-{i:03d}"
            p = Path(d) / f"r{i}.json"
            p.write_text(json.dumps(rep))
            paths.append(str(p))
        t0 = time.perf_counter()
        report.summarize(paths, rs)
        inproc = time.perf_counter() - t0
        t0 = time.perf_counter()
        env = {**os.environ,  # the tree under test, not an installed copy
               "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])}
        subprocess.run([sys.executable, "-m", "voldoctor", "summarize", *paths], check=True,
                       stdout=subprocess.DEVNULL, env=env)
        whole = time.perf_counter() - t0
    print(f"summarize {N} reports: {inproc * 1000:.0f} ms in-process, {whole * 1000:.0f} ms as a command")


if __name__ == "__main__":
    main()
