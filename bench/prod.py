"""The production front door against the Python servers it replaces, in one run on
the same machine: wrk against a built page (`/`), a hashed frontend asset and one of
Django's static files, served

- by `reflex-django run --env prod` (the front door, from disk),
- by Reflex's own production server (`reflex run --env prod` of a copy of the same
  app: granian, Starlette's static files),
- by Django's static handling (uvicorn with as many workers as CPUs, Django's
  ASGIStaticFilesHandler, as in DEBUG);

and Reflex events over the `/_event` WebSocket through the front door and directly
to the Reflex backend. Prints requests per second and ratios; asserts nothing.

    python bench/prod.py [--binary target/release/reflex-django] [--seconds 5]

Needs wrk (apt-get install wrk) and the test venv with bun (source scripts/env.sh).
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

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "tests" / "e2e"), str(HERE)]
from django_proxy import wrk  # noqa: E402
from e2e_support import Stack, free_port, wait_for  # noqa: E402
from reflex_events import event_rate  # noqa: E402

DJANGO_STATIC_APP = """
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application

application = ASGIStaticFilesHandler(get_asgi_application())
"""


def serve(cmd: list[str], cwd: Path, env: dict[str, str], ready_url: str) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            start_new_session=True)

    def up() -> bool:
        if proc.poll() is not None:
            raise SystemExit(f"error: {' '.join(cmd)} exited with {proc.returncode}")
        try:
            import httpx

            return httpx.get(ready_url, timeout=2).status_code < 500
        except Exception:
            return False

    wait_for(up, 300, f"{ready_url} to answer", 0.5)
    return proc


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="target/release/reflex-django")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
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
    cpus = os.cpu_count() or 1
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as tmp:
        ours_root = Path(tmp) / "bench"
        subprocess.run([binary, "init", str(ours_root)], env=env, check=True, capture_output=True)
        theirs_root = Path(tmp) / "reflex-prod"
        shutil.copytree(ours_root, theirs_root, symlinks=True)
        print("building…", file=sys.stderr)
        subprocess.run([binary, "build"], cwd=ours_root, env=env, check=True, capture_output=True)
        ours = Stack(ours_root, env, prod=True)
        try:
            ours.start(timeout=300)
            live = json.loads(subprocess.run([binary, "routes", "--json"], cwd=ours_root, env=env,
                                             capture_output=True, text=True, check=True).stdout)
            reflex_backend = f"http://127.0.0.1:{live['internal']['reflex']['port']}"

            # Reflex's own production server, on a copy of the same app.
            reflex_port = free_port()
            procs.append(serve(
                [python, "-m", "reflex", "run", "--env", "prod", "--frontend-port", str(reflex_port),
                 "--backend-port", str(reflex_port), "--backend-host", "127.0.0.1"],
                theirs_root, {**env, "REFLEX_API_URL": f"http://localhost:{reflex_port}"},
                f"http://127.0.0.1:{reflex_port}/ping",
            ))
            # Django's static handling, with a worker per CPU.
            django_port = free_port()
            (ours_root / "bench_static_asgi.py").write_text(DJANGO_STATIC_APP)
            procs.append(serve(
                [python, "-m", "uvicorn", "bench_static_asgi:application", "--port", str(django_port),
                 "--workers", str(cpus), "--no-access-log", "--lifespan", "off"],
                ours_root, {**env, "DJANGO_SETTINGS_MODULE": "backend.settings", "DEBUG": "1"},
                f"http://127.0.0.1:{django_port}/static/admin/css/base.css",
            ))

            door = f"http://127.0.0.1:{ours.port}"
            reflex = f"http://127.0.0.1:{reflex_port}"
            django = f"http://127.0.0.1:{django_port}"
            home = subprocess.run(["curl", "-s", door + "/"], capture_output=True, text=True).stdout
            asset = re.search(r'"(/assets/[^"]+\.js)"', home).group(1)
            print(f"wrk -t1 -c{args.connections} -d{args.seconds}s, {cpus} CPUs; the front door's "
                  f"Django has {cpus} workers, Reflex's prod server its default\n")
            print(f"{'what':<34}{'front door':>12}{'python':>12}{'ratio':>8}   python server")
            rows = [
                ("page /", "/", reflex, "reflex run --env prod"),
                ("hashed asset (frontend)", asset, reflex, "reflex run --env prod"),
                ("static file (Django)", "/static/admin/css/base.css", django, "Django staticfiles"),
            ]
            for name, path, other, label in rows:
                for base in (door, other):
                    wrk(base + path, 1, args.connections)  # warm up
                ours_rate = wrk(door + path, args.seconds, args.connections)["rate"]
                their_rate = wrk(other + path, args.seconds, args.connections)["rate"]
                print(f"{name:<34}{ours_rate:>12.0f}{their_rate:>12.0f}{ours_rate / their_rate:>8.1f}×  {label}")

            event_rate(reflex_backend, 1)  # warm up
            direct = event_rate(reflex_backend, args.seconds)
            through = event_rate(door, args.seconds)
            print(f"\n{'Reflex events (one socket)':<34}{through:>12.0f}{direct:>12.0f}{through / direct:>8.2f}   "
                  "direct to the Reflex backend")
            print("\ngoals: static and page >= 10x and >= 5x the Python servers; events >= 0.95x direct")
        finally:
            for proc in procs:
                stop(proc)
            ours.stop()
            ours.kill_everything()
            time.sleep(0.5)


if __name__ == "__main__":
    main()
