"""The front door's cost in front of real Django: wrk against Django's admin login page
and a static file, directly (Django's internal port) and through the front door, in one
run on the same machine. Prints throughput ratios and the latency the proxy adds.

    python bench/django_proxy.py [--binary target/release/reflex-django] [--seconds 5]

Needs wrk (apt-get install wrk) and the test venv (source scripts/env.sh). The proxy's
cost on a trivial upstream and for WebSocket messages: `cargo bench --bench proxy`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))
from e2e_support import Stack  # noqa: E402


def wrk(url: str, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        sys.exit(f"error: {url} answered {errors.group(1)} errors\n{out}")

    def percentile(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 1, "ms": 1e3, "s": 1e6}[unit]

    return {"rate": rate, "p50": percentile("50"), "p99": percentile("99")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="target/release/reflex-django")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    if not shutil.which("wrk"):
        sys.exit("error: wrk is not installed\nhint: apt-get install wrk")
    if not os.path.exists(binary):
        sys.exit(f"error: {binary} does not exist\nhint: cargo build --release")
    python = os.environ.get("REFLEX_DJANGO_TEST_PYTHON")
    if not python:
        sys.exit("error: REFLEX_DJANGO_TEST_PYTHON is not set\nhint: source scripts/env.sh")

    env = {k: v for k, v in os.environ.items() if not k.startswith("REFLEX_DJANGO_")}
    env["VIRTUAL_ENV"] = str(Path(python).parent.parent)
    env["REFLEX_DJANGO_BIN"] = binary
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bench"
        subprocess.run([binary, "init", str(root)], env=env, check=True, capture_output=True)
        stack = Stack(root, env)
        try:
            stack.start()
            live = json.loads(subprocess.run([binary, "routes", "--json"], cwd=root, env=env,
                                             capture_output=True, text=True, check=True).stdout)
            django = f"http://127.0.0.1:{live['internal']['django']['port']}"
            door = f"http://127.0.0.1:{stack.port}"
            print(f"Django under {live['internal']['django']['server']}, wrk -t1 -c{args.connections} "
                  f"-d{args.seconds}s, {os.cpu_count()} CPUs\n")
            print(f"{'path':<32}{'direct req/s':>14}{'proxied req/s':>15}{'ratio':>8}"
                  f"{'p50 added':>12}{'p99 added':>12}")
            for path in ("/admin/login/", "/static/admin/css/base.css"):
                wrk(django + path, 1, args.connections)  # warm up
                direct = wrk(django + path, args.seconds, args.connections)
                proxied = wrk(door + path, args.seconds, args.connections)
                print(f"{path:<32}{direct['rate']:>14.0f}{proxied['rate']:>15.0f}"
                      f"{proxied['rate'] / direct['rate']:>8.3f}"
                      f"{proxied['p50'] - direct['p50']:>10.0f}us{proxied['p99'] - direct['p99']:>10.0f}us")
            print("\ngoal: ratio >= 0.95")
        finally:
            stack.stop()
            stack.kill_everything()


if __name__ == "__main__":
    main()
