#!/usr/bin/env python3
"""Time `voldoctor check --skip roundtrip roundtrip-nonroot` against a shell
script making the same docker CLI calls, in the same run.

Starts a private dockerd unless DOCKER_HOST is set. Prints the median of
several runs of each and their ratio.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.dockerd import some_daemon  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "7"))

SCRIPT = r"""
set -e
docker version --format '{{.Server.Version}} {{.Server.APIVersion}}' >/dev/null
docker info --format '{{.DockerRootDir}} {{json .Plugins.Volume}}' >/dev/null
docker volume ls -q >/dev/null
docker ps -a --format '{{.Names}} {{.Mounts}} {{.Ports}}' >/dev/null
n=voldoctor-bench-$$
docker volume create --label io.voldoctor.probe=1 $n >/dev/null
docker volume inspect $n >/dev/null
docker volume rm $n >/dev/null
docker image inspect docker/getting-started:latest >/dev/null 2>&1 || true
df -h "$(docker info --format '{{.DockerRootDir}}')" >/dev/null
"""


def timed(cmd, env) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main():
    with some_daemon() as host:
        env = {**os.environ, "DOCKER_HOST": host,  # the tree under test, not an installed copy
               "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])}
        vd = [sys.executable, "-m", "voldoctor", "check", "--skip", "roundtrip", "roundtrip-nonroot"]
        sh = ["sh", "-c", SCRIPT]
        timed(vd, env), timed(sh, env)  # warm caches
        a = [timed(vd, env) for _ in range(RUNS)]
        b = [timed(sh, env) for _ in range(RUNS)]
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"voldoctor check --skip roundtrip: median {ma * 1000:.0f} ms over {RUNS} runs")
    print(f"shell script, same docker calls:  median {mb * 1000:.0f} ms over {RUNS} runs")
    print(f"ratio voldoctor/shell: {ma / mb:.2f}")

if __name__ == "__main__":
    main()
