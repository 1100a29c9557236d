#!/usr/bin/env python3
"""Daemon requests for one `diagnose`, at 10 and at 1000 containers.

Starts a private dockerd (root, docker.io and busybox-static needed; or uses
DOCKER_HOST when set), creates the containers (not started), and counts the
HTTP requests voldoctor makes for the same question at each size. Prints both,
and the wall time of the question for reference.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from support.dockerd import IMAGES, Lab, build_images, some_daemon  # noqa: E402
from voldoctor import daemon, engine, rules  # noqa: E402

QUESTION = "data in /app/data is gone after docker rm"
SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "10,1000").split(",")]


def ask(host, rs):
    ep = daemon.resolve_endpoint(host)
    t0 = time.perf_counter()
    a = engine.answer(QUESTION, rs, lambda pick: daemon.collect(ep, 30, pick))
    return a.state.requests, time.perf_counter() - t0, [d.rule for d in a.diagnoses]


def main():
    with some_daemon() as host:
        lab = Lab(host)
        try:
            have = {t for i in lab.api.images() for t in (i.get("RepoTags") or [])}
            if not set(IMAGES) <= have:
                build_images(lab.api)
            rs = rules.load()
            lab.volume("my-data")
            lab.container(lab.name("target"), binds=["my-data:/app/date"], start=False)
            made = 1
            for n in sorted(SIZES):
                while made < n:
                    lab.container(lab.name(f"filler{made}"), command=("true",), start=False)
                    made += 1
                reqs, took, found = ask(host, rs)
                print(f"containers={n:>5}  requests={reqs}  time={took * 1000:.0f} ms  first={found[:1]}")
        finally:
            lab.cleanup()

if __name__ == "__main__":
    main()
