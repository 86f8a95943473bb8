"""Chaos figures for `reflex-django run`, with real Django and Reflex, in one run:

- GETs across a `kill -9` of Django under wrk (32 connections): failed requests through
  the front door, and straight to Django's server (the direct path) in the same run;
- a frozen Django (SIGSTOP): how long a request waits (the 504 deadline), how long
  until the liveness checks restart it, and until it serves again;
- a client's body that stops arriving: how long until the 408; a malformed chunked
  body: the status;
- a run whose stdout nobody reads while its children log a lot: the front door's
  latency then, and how long Ctrl-C takes to stop everything.

Prints figures; asserts nothing (the chaos tests in tests/e2e assert the behaviour).

    python bench/chaos.py [--binary target/release/reflex-django] [--seconds 6]

Needs wrk (apt-get install wrk) and the test venv with bun (source scripts/env.sh).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "tests" / "e2e"), str(HERE)]
from bench_support import parse_args, prepare  # noqa: E402
from e2e_support import Stack, free_port, wait_for  # noqa: E402

CHAOS_ENV = {
    "REFLEX_DJANGO_PROXY_UPSTREAM_TIMEOUT": "3s",
    "REFLEX_DJANGO_PROXY_BODY_TIMEOUT": "2s",
    "REFLEX_DJANGO_LIVENESS_EVERY": "1s",
    "REFLEX_DJANGO_LIVENESS_TIMEOUT": "1s",
    "REFLEX_DJANGO_LIVENESS_FAILURES": "2",
}


def wrk_failures(url: str, seconds: int, connections: int, during: Callable[[], None]) -> tuple[int, int, int]:
    """Runs wrk against `url`, calls `during()` a third of the way in; returns
    (requests answered, non-2xx/3xx answers, socket errors: refused connections,
    connections closed mid-request, time-outs)."""
    proc = subprocess.Popen(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", url],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(seconds / 3)
    during()
    out, _ = proc.communicate()
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return total, bad, sum(int(n) for n in errors.groups()) if errors else 0


def django_port(stack: Stack) -> int:
    for command in stack.commands():
        if "uvicorn" in command and "--port" in command:
            return int(command.split("--port", 1)[1].split()[0])
    raise SystemExit(f"error: no uvicorn under run:\n{stack.log()}")


def kill_django(stack: Stack) -> None:
    os.kill(stack.child_pid("uvicorn"), signal.SIGKILL)


def served(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def crash_figures(stack: Stack, seconds: int, connections: int) -> None:
    page = "/admin/login/"
    ours = wrk_failures(f"{stack.app_url}{page}", seconds, connections, lambda: kill_django(stack))
    wait_for(lambda: served(f"{stack.app_url}{page}"), 60, "Django to be back")
    direct = wrk_failures(
        f"http://127.0.0.1:{django_port(stack)}{page}", seconds, connections, lambda: kill_django(stack)
    )
    wait_for(lambda: served(f"{stack.app_url}{page}"), 60, "Django to be back")
    print(f"kill -9 of Django under wrk -c{connections} for {seconds}s (GET {page}):")
    for name, (total, bad, errors) in (("through the front door", ours), ("straight to uvicorn", direct)):
        print(f"  {name:<22}: {bad} error answers of {total}, {errors} socket errors")


def freeze_figures(stack: Stack) -> None:
    page = f"{stack.app_url}/admin/login/"
    frozen = stack.child_pid("uvicorn")
    seen = stack.log().count("django stopped answering")
    os.killpg(os.getpgid(frozen), signal.SIGSTOP)
    started = time.monotonic()
    status = httpx.get(page, timeout=60).status_code
    answered = time.monotonic() - started
    wait_for(lambda: stack.log().count("django stopped answering") > seen, 60, "the liveness checks")
    found = time.monotonic() - started
    wait_for(lambda: served(page), 60, "Django to serve again")
    back = time.monotonic() - started
    print("Django frozen with SIGSTOP (upstream_timeout 3s, liveness every 1s, 2 failures):")
    print(f"  a request was answered {status} after {answered:.2f}s")
    print(f"  found out after {found:.2f}s; serving again after {back:.2f}s")


def client_fault_figures(stack: Stack) -> None:
    host, port = "127.0.0.1", stack.port
    with socket.create_connection((host, port)) as conn:
        conn.sendall(b"POST /admin/x HTTP/1.1\r\nhost: a\r\ncontent-length: 100\r\n\r\n0123456789")
        started = time.monotonic()
        answer = conn.recv(4096)
        dripped = time.monotonic() - started
    with socket.create_connection((host, port)) as conn:
        conn.sendall(b"POST /admin/x HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhi\r\n0\r\n\r\n")
        bad = conn.recv(4096)
    print("client faults (body_timeout 2s):")
    print(f"  a body that stops arriving: {answer.split(b' ')[1].decode()} after {dripped:.2f}s")
    print(f"  a malformed chunked body: {bad.split(b' ')[1].decode()}")


def undrained_figures(root: Path, env: dict[str, str], binary: str) -> None:
    """`run` (development: uvicorn logs every request) with a stdout pipe nobody reads."""
    port, frontend = free_port(), free_port()
    proc = subprocess.Popen(
        [binary, "run", "--port", str(port), "--frontend-port", str(frontend)],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    health = f"http://127.0.0.1:{port}/_reflex_django/health"
    try:
        wait_for(lambda: served(health), 300, "the development run")
        with httpx.Client(timeout=30) as client:
            for _ in range(3000):  # ~300 KB of access log: far more than a pipe holds
                client.get(f"http://127.0.0.1:{port}/admin/login/")
            latencies = []
            for _ in range(100):
                started = time.monotonic()
                client.get(health)
                latencies.append((time.monotonic() - started) * 1000)
        asked = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        stopped = time.monotonic() - asked
        print("stdout never read, after 3000 logged requests:")
        print(
            f"  health answered in {statistics.median(latencies):.1f}ms median, {max(latencies):.1f}ms at most"
            f"; Ctrl-C stopped everything in {stopped:.2f}s"
        )
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def main() -> None:
    args = parse_args(__doc__, connections=32)
    args.seconds = max(args.seconds, 6)
    binary, _, env = prepare(args.binary)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "chaos"
        subprocess.run([binary, "init", str(root)], env=env, check=True, capture_output=True)
        print("building…", file=sys.stderr)
        subprocess.run([binary, "build"], cwd=root, env=env, check=True, capture_output=True)
        stack = Stack(root, {**env, **CHAOS_ENV}, prod=True)
        try:
            stack.start(timeout=300)
            crash_figures(stack, args.seconds, args.connections)
            freeze_figures(stack)
            client_fault_figures(stack)
        finally:
            stack.finish()
        undrained_figures(root, env, binary)


if __name__ == "__main__":
    main()
