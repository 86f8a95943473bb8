"""Helpers of the end-to-end tests: the running stack, waiting, finding processes."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
# The demo's pages as the browser tests leave them, to look at (`screenshot`).
SCREENSHOTS = REPO / "target" / "screenshots"
CHROMIUM = os.environ.get("REFLEX_DJANGO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def binary() -> str:
    found = os.environ.get("REFLEX_DJANGO_BIN") or shutil.which("reflex-django")
    if not found:
        pytest.fail("reflex-django is not on PATH: run the suite with scripts/test")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_with_marker(marker: str) -> list[int]:
    """Pids whose environment carries `marker` (the tests' own check for orphans)."""
    found = []
    needle = marker.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def cmdline(pid: int) -> str | None:
    """The command line of `pid`, or None once it is gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


def title(response) -> str:
    """The `<title>` of an HTML answer (the dev server answers every path with the
    app, so a page is told by its title, not its status)."""
    match = re.search(r"<title>(.*?)</title>", response.text, re.DOTALL)
    return match.group(1).strip() if match else ""


def signed_in_as(page) -> str:
    """Who the demo's home page says is signed in, once it says anything."""
    page.wait_for_function(
        "() => { const e = document.querySelector('#signed-in-as'); return e && e.textContent.length > 0 }"
    )
    return page.inner_text("#signed-in-as")


def screenshot(page, name: str) -> None:
    """Saves the whole of `page` as SCREENSHOTS/<name>.png, animations finished."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, animations="disabled")


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as exc:  # keep polling until the deadline
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Stack:
    """`reflex-django run` in `root` on free ports, its output collected. With
    `prod=True` it is `run --env prod`: one public port, the front door."""

    def __init__(self, root: Path, env: dict[str, str], prod: bool = False, args: tuple[str, ...] = ()):
        self.root = root
        self.prod = prod
        self.args = args
        self.port = free_port()
        self.frontend_port = free_port()
        self.front_door_url = f"http://localhost:{self.port}"
        self.app_url = self.front_door_url if prod else f"http://localhost:{self.frontend_port}"
        self.marker = f"RDJ_E2E_MARKER={secrets.token_hex(8)}"
        self.env = {**env, self.marker.split("=")[0]: self.marker.split("=")[1]}
        self.lines: list[str] = []
        self.proc: subprocess.Popen[str] | None = None
        self.started_in: float | None = None

    def command(self) -> list[str]:
        ports = ["--port", str(self.port)]
        if self.prod:
            return [binary(), "run", "--env", "prod", *ports, *self.args]
        return [binary(), "run", *ports, "--frontend-port", str(self.frontend_port), *self.args]

    def launch(self) -> None:
        """Starts `run` without waiting for it."""
        self.proc = subprocess.Popen(
            self.command(),
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def start(self, timeout: float = 600) -> None:
        started = time.monotonic()
        self.launch()
        wait_for(
            lambda: "ready in" in self.log() or self.proc.poll() is not None,
            timeout,
            "`reflex-django run` to be ready",
        )
        if self.proc.poll() is not None:
            raise AssertionError(f"reflex-django run exited early:\n{self.log()}")
        self.started_in = time.monotonic() - started

    def _read(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def log(self) -> str:
        return "\n".join(self.lines)

    def count(self, pattern: str) -> int:
        return len(re.findall(pattern, self.log()))

    def child_pid(self, needle: str) -> int:
        """The pid of the process under `run` whose command line contains `needle`."""
        for pid in processes_with_marker(self.marker):
            if needle in (cmdline(pid) or ""):
                return pid
        raise AssertionError(f"no process with {needle!r} under run:\n{self.log()}")

    def stop(self, timeout: float = 30, sig: int = signal.SIGINT) -> int:
        """Ctrl-C, as a person would (or `sig`); returns the exit code."""
        assert self.proc
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_everything()
            raise
        return code

    def commands(self) -> list[str]:
        """The command lines of every process of this run."""
        lines = (cmdline(pid) for pid in processes_with_marker(self.marker))
        return [line for line in lines if line is not None]

    def finish(self) -> int:
        """Ctrl-C, then make sure nothing of the run is left (killing what is, after
        reporting it); returns the exit code."""
        code = self.stop()
        try:
            wait_for(lambda: not self.leftovers(), 5, "every process of the run to end", 0.2)
        finally:
            self.kill_everything()
        return code

    def leftovers(self) -> list[int]:
        return processes_with_marker(self.marker)

    def kill_everything(self) -> None:
        for pid in self.leftovers():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc and self.proc.poll() is None:
            self.proc.kill()


class Nginx:
    """nginx running a generated server config (`deploy nginx`, which goes in http {}),
    with every path it writes inside `prefix`, so it runs as a test's own and leaves
    nothing behind."""

    BINARY = shutil.which("nginx") or "/usr/sbin/nginx"

    def __init__(self, prefix: Path, site: str) -> None:
        self.prefix = prefix
        for sub in ("logs", "tmp"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        (prefix / "site.conf").write_text(site)
        temp = prefix / "tmp"
        (prefix / "nginx.conf").write_text(
            f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log;
events {{ worker_connections 512; }}
http {{
    access_log {prefix}/logs/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {prefix}/site.conf;
}}
"""
        )
        self.args = ["-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "logs/error.log")]
        self.proc: subprocess.Popen[bytes] | None = None

    def test(self) -> None:
        """`nginx -t`: the configuration is valid."""
        checked = subprocess.run([self.BINARY, "-t", *self.args], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr

    def start(self) -> None:
        self.test()
        self.proc = subprocess.Popen([self.BINARY, *self.args, "-g", "daemon off;"])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


class Load:
    """`total` GETs of `paths` (in turn) against `base_url` from `threads` threads;
    `done` counts the answered ones, `failures` lists what failed (`ok(status)` says
    which statuses count as answers: by default below 500)."""

    def __init__(self, base_url: str, paths: list[str], total: int, threads: int, ok=lambda status: status < 500):
        self.base_url, self.paths, self.total, self.ok = base_url, paths, total, ok
        self.done = 0
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._hammer, args=(n, threads)) for n in range(threads)]
        for thread in self._threads:
            thread.start()

    def _hammer(self, offset: int, step: int) -> None:
        import httpx

        with httpx.Client(base_url=self.base_url, timeout=60) as client:
            for i in range(offset, self.total, step):
                path = self.paths[i % len(self.paths)]
                try:
                    status = client.get(path).status_code
                    failure = None if self.ok(status) else f"{status} {path}"
                except httpx.HTTPError as exc:
                    failure = f"{type(exc).__name__} {path}: {exc}"
                with self._lock:
                    self.done += 1
                    if failure:
                        self.failures.append(failure)

    def wait_for_share(self, share: float, what: str) -> None:
        wait_for(lambda: self.done >= self.total * share, 120, what)

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=300)


def serving(stack: Stack, timeout: float = 180):
    """Starts `stack` and yields it (for a fixture); at the end `run` must exit 0."""
    try:
        stack.start(timeout=timeout)
        yield stack
    finally:
        code = stack.finish()
        assert code == 0, f"run exited with {code}:\n{stack.log()}"
