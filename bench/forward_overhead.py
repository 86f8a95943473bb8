"""How much does `reflex-django <cmd>` add over `python manage.py <cmd>`?

Runs `check` both ways, interleaved, in one fresh Django project, and prints the
median wall time of each and their ratio (goal: <= 1.03).

    python bench/forward_overhead.py [--binary PATH] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=shutil.which("reflex-django"))
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    args.binary = args.binary and os.path.abspath(args.binary)
    if not args.binary:
        sys.exit("error: reflex-django not found\nhint: pass --binary target/release/reflex-django")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        subprocess.run([sys.executable, "-m", "django", "startproject", "mysite", str(root)], check=True)
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env["VIRTUAL_ENV"] = str(Path(sys.executable).parent.parent)
        direct = [sys.executable, "manage.py", "check"]
        ours = [args.binary, "check"]
        for cmd in (direct, ours):  # warm the file cache and .pyc files
            timed(cmd, root, env)
        t_direct, t_ours = [], []
        for _ in range(args.runs):
            t_direct.append(timed(direct, root, env))
            t_ours.append(timed(ours, root, env))

    m_direct, m_ours = statistics.median(t_direct), statistics.median(t_ours)
    print(f"python manage.py check   median {m_direct * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"reflex-django check      median {m_ours * 1000:7.1f} ms")
    print(f"ratio reflex-django / manage.py: {m_ours / m_direct:.3f}  (goal <= 1.03)")


if __name__ == "__main__":
    main()
