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

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "tests" / "e2e"), str(HERE)]
from bench_support import parse_args, prepare, wrk  # noqa: E402
from e2e_support import Stack, free_port, wait_for  # noqa: E402
from reflex_events import event_rate  # noqa: E402

DJANGO_STATIC_APP = """
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application

application = ASGIStaticFilesHandler(get_asgi_application())
"""


def serve(cmd: list[str], cwd: Path, env: dict[str, str], ready_url: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
    )

    def up() -> bool:
        if proc.poll() is not None:
            raise SystemExit(f"error: {' '.join(cmd)} exited with {proc.returncode}")
        try:
            return httpx.get(ready_url, timeout=2).status_code < 500
        except Exception:
            return False

    wait_for(up, 300, f"{ready_url} to answer", 0.5)
    return proc


def asset_named(base: str, prefix: str) -> str:
    """The path of the `/assets/{prefix}…` file that `base`'s home page loads."""
    home = httpx.get(base + "/").text
    found = re.search(rf'"(/assets/{re.escape(prefix)}[^"]+)"', home)
    if not found:
        raise SystemExit(f"error: {base}/ loads no /assets/{prefix}… file")
    return found.group(1)


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def main() -> None:
    args = parse_args(__doc__, connections=16)
    binary, python, env = prepare(args.binary)
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
            live = json.loads(
                subprocess.run(
                    [binary, "routes", "--json"], cwd=ours_root, env=env, capture_output=True, text=True, check=True
                ).stdout
            )
            reflex_backend = f"http://127.0.0.1:{live['internal']['reflex']['port']}"

            # Reflex's own production server, on a copy of the same app.
            reflex_port = free_port()
            procs.append(
                serve(
                    [
                        python,
                        "-m",
                        "reflex",
                        "run",
                        "--env",
                        "prod",
                        "--frontend-port",
                        str(reflex_port),
                        "--backend-port",
                        str(reflex_port),
                        "--backend-host",
                        "127.0.0.1",
                    ],
                    theirs_root,
                    {**env, "REFLEX_API_URL": f"http://localhost:{reflex_port}"},
                    f"http://127.0.0.1:{reflex_port}/ping",
                )
            )
            # Django's static handling, with a worker per CPU.
            django_port = free_port()
            (ours_root / "bench_static_asgi.py").write_text(DJANGO_STATIC_APP)
            procs.append(
                serve(
                    [
                        python,
                        "-m",
                        "uvicorn",
                        "bench_static_asgi:application",
                        "--port",
                        str(django_port),
                        "--workers",
                        str(cpus),
                        "--no-access-log",
                        "--lifespan",
                        "off",
                    ],
                    ours_root,
                    {**env, "DJANGO_SETTINGS_MODULE": "backend.settings", "DEBUG": "1"},
                    f"http://127.0.0.1:{django_port}/static/admin/css/base.css",
                )
            )

            door = f"http://127.0.0.1:{ours.port}"
            reflex = f"http://127.0.0.1:{reflex_port}"
            django = f"http://127.0.0.1:{django_port}"
            # The same bundle file from each build (its hash differs: so does the backend URL).
            ours_asset, their_asset = asset_named(door, "manifest-"), asset_named(reflex, "manifest-")
            static = "/static/admin/css/base.css"
            print(
                f"wrk -t1 -c{args.connections} -d{args.seconds}s, {cpus} CPUs; the front door's "
                f"Django has {cpus} workers, Reflex's prod server its default\n"
            )
            print(f"{'what':<34}{'front door':>12}{'python':>12}{'ratio':>8}   python server")
            rows = [
                ("page /", "/", reflex, "/", "reflex run --env prod"),
                ("hashed asset (frontend)", ours_asset, reflex, their_asset, "reflex run --env prod"),
                ("static file (Django)", static, django, static, "Django staticfiles"),
            ]
            for name, path, other, other_path, label in rows:
                wrk(door + path, 1, args.connections)  # warm up
                wrk(other + other_path, 1, args.connections)
                ours_rate = wrk(door + path, args.seconds, args.connections)["rate"]
                their_rate = wrk(other + other_path, args.seconds, args.connections)["rate"]
                print(f"{name:<34}{ours_rate:>12.0f}{their_rate:>12.0f}{ours_rate / their_rate:>8.1f}×  {label}")

            # One socket, one event in flight: the hop's latency shows fully. Rounds
            # alternate between the two paths so drift on a busy machine hits both.
            event_rate(reflex_backend, 1)  # warm up
            rounds = [(event_rate(door, 2), event_rate(reflex_backend, 2)) for _ in range(max(3, args.seconds))]
            through = statistics.median(r[0] for r in rounds)
            direct = statistics.median(r[1] for r in rounds)
            ratio = statistics.median(r[0] / r[1] for r in rounds)
            print(
                f"\n{'Reflex events/s (one socket)':<34}{through:>12.0f}{direct:>12.0f}{through / direct:>8.2f}   "
                f"direct to the Reflex backend: medians of {len(rounds)} alternating rounds "
                f"(median of the rounds' ratios: {ratio:.2f})"
            )
            print("\ngoals: static and page >= 10x and >= 5x the Python servers; events >= 0.95x direct")
        finally:
            for proc in procs:
                stop(proc)
            ours.stop()
            ours.kill_everything()
            time.sleep(0.5)


if __name__ == "__main__":
    main()
