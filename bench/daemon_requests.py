#!/usr/bin/env python3
"""Daemon requests and time for one question, at a small and a large daemon,
beside what the docker CLI's own listing costs on the same daemon.

Starts a private dockerd (root, docker.io and busybox-static needed; or uses
DOCKER_HOST when set), fills it with containers (not started) and volumes,
and for each size prints: requests and median time per question, and the
median time of `docker ps -a` plus `docker volume ls`. The last lines compare
what each one's time grows by from the small daemon to the large one.

BENCH_SIZES="10:20,1000:2000" (containers:volumes), BENCH_RUNS=5.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from support.dockerd import IMAGES, Lab, build_images, some_daemon  # noqa: E402
from voldoctor import daemon, engine, rules  # noqa: E402

QUESTIONS = ["data not persisting", "data in /app/data is gone after docker rm", "volume not found",
             "the folder is empty"]  # the last fits several symptoms: the rules of each are looked at
SIZES = [tuple(int(x) for x in s.split(":")) for s in os.environ.get("BENCH_SIZES", "10:20,1000:2000").split(",")]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))


def ask(host, rs, question):
    ep = daemon.resolve_endpoint(host)
    times, reqs = [], 0
    for _ in range(RUNS):
        t0 = time.perf_counter()
        a = engine.answer(question, rs, lambda plan: daemon.collect(ep, 60, plan), volume="my-data"
                          if "volume" in question else None)
        times.append(time.perf_counter() - t0)
        reqs = a.state.requests
    return reqs, statistics.median(times)


def cli_listing(host):
    env = {**os.environ, "DOCKER_HOST": host}
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run(["docker", "ps", "-a"], env=env, capture_output=True, check=True)
        subprocess.run(["docker", "volume", "ls"], env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    rows = {}
    with some_daemon() as host:
        lab = Lab(host)
        try:
            have = {t for i in lab.api.images() for t in (i.get("RepoTags") or [])}
            if not set(IMAGES) <= have:
                build_images(lab.api)
            rs = rules.load()
            lab.volume("my-data")
            lab.container(lab.name("target"), binds=["my-data:/app/date"], start=False)
            made_c, made_v = 1, 1
            for nc, nv in sorted(SIZES):
                while made_c < nc:
                    lab.container(lab.name(f"filler{made_c}"), command=("true",), start=False)
                    made_c += 1
                while made_v < nv:
                    lab.volume(lab.name(f"vol{made_v}"))
                    made_v += 1
                cli = cli_listing(host)
                res = {q: ask(host, rs, q) for q in QUESTIONS}
                rows[(nc, nv)] = (cli, res)
                print(f"containers={nc:>5} volumes={nv:>5}  docker ps -a + volume ls: {cli * 1000:6.0f} ms")
                for q, (reqs, took) in res.items():
                    print(f"    {q!r:<48} requests={reqs:>2}  time={took * 1000:6.0f} ms")
        finally:
            lab.cleanup()
    if len(rows) >= 2:
        small, large = sorted(rows)[0], sorted(rows)[-1]
        cli_add = rows[large][0] - rows[small][0]
        print(f"\nTime added from {small} to {large} (containers, volumes):")
        print(f"    docker CLI listing: +{cli_add * 1000:.0f} ms")
        for q in QUESTIONS:
            add = rows[large][1][q][1] - rows[small][1][q][1]
            print(f"    {q!r:<48} +{add * 1000:.0f} ms  ({add / cli_add:.2f}x the CLI's)" if cli_add > 0 else q)


if __name__ == "__main__":
    main()
