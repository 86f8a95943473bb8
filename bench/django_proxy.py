"""The front door's cost in front of real Django: wrk against Django's admin login page
and a static file, directly (Django's internal port) and through the front door, in one
run on the same machine. Prints throughput ratios and the latency the proxy adds.

    python bench/django_proxy.py [--binary target/release/reflex-django] [--seconds 5]

Needs wrk (apt-get install wrk) and the test venv (source scripts/env.sh). The proxy's
cost on a trivial upstream and for WebSocket messages: `cargo bench --bench proxy`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "tests" / "e2e"), str(HERE)]
from bench_support import parse_args, prepare, wrk  # noqa: E402
from e2e_support import Stack  # noqa: E402


def main() -> None:
    args = parse_args(__doc__, connections=8)
    binary, _python, env = prepare(args.binary)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bench"
        subprocess.run([binary, "init", str(root)], env=env, check=True, capture_output=True)
        stack = Stack(root, env)
        try:
            stack.start()
            live = json.loads(
                subprocess.run(
                    [binary, "routes", "--json"], cwd=root, env=env, capture_output=True, text=True, check=True
                ).stdout
            )
            django = f"http://127.0.0.1:{live['internal']['django']['port']}"
            door = f"http://127.0.0.1:{stack.port}"
            print(
                f"Django under {live['internal']['django']['server']}, wrk -t1 -c{args.connections} "
                f"-d{args.seconds}s, {os.cpu_count()} CPUs\n"
            )
            print(
                f"{'path':<32}{'direct req/s':>14}{'proxied req/s':>15}{'ratio':>8}{'p50 added':>12}{'p99 added':>12}"
            )
            for path in ("/admin/login/", "/static/admin/css/base.css"):
                wrk(django + path, 1, args.connections)  # warm up
                direct = wrk(django + path, args.seconds, args.connections)
                proxied = wrk(door + path, args.seconds, args.connections)
                print(
                    f"{path:<32}{direct['rate']:>14.0f}{proxied['rate']:>15.0f}"
                    f"{proxied['rate'] / direct['rate']:>8.3f}"
                    f"{proxied['p50'] - direct['p50']:>10.0f}us{proxied['p99'] - direct['p99']:>10.0f}us"
                )
            print("\ngoal: ratio >= 0.95")
        finally:
            stack.stop()
            stack.kill_everything()


if __name__ == "__main__":
    main()
