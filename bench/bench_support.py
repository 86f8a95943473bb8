"""What the Python benchmarks share: wrk, the checks before a run, the environment
that makes `reflex-django` use the test venv."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path


def parse_args(doc: str, connections: int) -> argparse.Namespace:
    """`--binary`, `--seconds`, `--connections`, described by the script's `doc`."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--binary", default="target/release/reflex-django")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=connections)
    return parser.parse_args()


def prepare(binary: str) -> tuple[str, str, dict[str, str]]:
    """The binary (absolute), the test venv's Python, and the environment to run
    `reflex-django` in; exits with a hint when something is missing."""
    binary = os.path.abspath(binary)
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
    return binary, python, env


def wrk(url: str, seconds: int, connections: int) -> dict[str, float]:
    """Requests per second and the p50/p99 latency (µs) of `url`; exits on errors."""
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
