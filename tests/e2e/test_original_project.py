"""A project written exactly as the original plugin's README says, untouched: Reflex's
own CLI (`reflex django …`, plain `reflex run`, `reflex run --env prod`) serves Django
inside Reflex; `reflex-django run` serves the same project with its front door.

The project: `django-admin startproject backend .`, an app module `frontend` with a
state that reads `current_user()`, and the README's `rxconfig.py`. Its `.web` is copied
from the demo when the demo has run, so the frontend packages are not installed twice.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from e2e_support import REPO, Stack, cmdline, free_port, processes_with_marker, title, wait_for

RXCONFIG = """\
import reflex as rx
from reflex_django import ReflexDjangoPlugin

config = rx.Config(
    app_name="frontend",
    plugins=[
        ReflexDjangoPlugin(settings_module="backend.settings"),
    ],
)
"""

APP = """\
import reflex as rx

from reflex_django import current_user
from reflex_django.auth_state import DjangoUserState
from reflex_django.mixins.session_auth import SessionAuthConfig, session_auth_mixin

_LOGIN_CFG = SessionAuthConfig(post_login_redirect="/", post_logout_redirect="/login")


class LoginState(session_auth_mixin(_LOGIN_CFG, base=DjangoUserState)):
    pass


class WhoamiState(rx.State):
    label: str = ""

    @rx.event
    async def refresh(self):
        user = current_user()
        self.label = user.get_username() if user.is_authenticated else "anonymous"


def index():
    return rx.vstack(
        rx.heading("Original plugin project"),
        rx.text(WhoamiState.label, id="whoami"),
    )


def login_page():
    return rx.form(
        rx.input(name="username", id="username"),
        rx.input(name="password", type="password", id="password"),
        rx.button("Sign in", type="submit", id="sign-in"),
        rx.text(LoginState.login_error, id="login-error"),
        on_submit=LoginState.submit_login_form,
    )


app = rx.App()
app.add_page(index, title="Original plugin project", on_load=WhoamiState.refresh)
app.add_page(login_page, route="/login", title="Sign in", on_load=LoginState.on_load_login)
"""

ADMIN_TITLE = "Log in | Django site admin"


def described(pid: int) -> str:
    """The command line of `pid`, with its state and signal masks (for reports)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
        wchan = Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return f"{pid}: gone"
    keep = ("State:", "SigBlk:", "SigIgn:", "SigCgt:", "Threads:")
    facts = [line.replace("\t", " ") for line in status if line.startswith(keep)] + [f"wchan: {wchan}"]
    return f"{pid}: {cmdline(pid)} [" + ", ".join(facts) + "]"


def venv_bin(name: str) -> str:
    python = os.environ.get("REFLEX_DJANGO_TEST_PYTHON") or sys.executable
    return str(Path(python).parent / name)


@pytest.fixture(scope="module")
def original_env(run_env, admin_password) -> dict[str, str]:
    return {**run_env, "DJANGO_SUPERUSER_PASSWORD": admin_password, "REFLEX_TELEMETRY_ENABLED": "false"}


@pytest.fixture(scope="module")
def original_root(demo_root, tmp_path_factory, original_env) -> Path:
    root = tmp_path_factory.mktemp("original") / "site"
    root.mkdir()
    made = subprocess.run(
        [venv_bin("django-admin"), "startproject", "backend", "."], cwd=root, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    (root / "rxconfig.py").write_text(RXCONFIG)
    (root / "frontend").mkdir()
    (root / "frontend" / "__init__.py").write_text("")
    (root / "frontend" / "frontend.py").write_text(APP)
    (root / "assets").mkdir()
    if (demo_root / ".web").is_dir():  # a demo that has run: its frontend packages are reused
        shutil.copytree(demo_root / ".web", root / ".web", symlinks=True)
        shutil.rmtree(root / ".web" / "build", ignore_errors=True)
    return root


@pytest.fixture(scope="module")
def managed(original_root, original_env) -> dict[str, subprocess.CompletedProcess[str]]:
    """`reflex django migrate` and `createsuperuser --noinput`, as the original README runs them."""
    results = {}
    for name, args in {
        "migrate": ["migrate"],
        "createsuperuser": ["createsuperuser", "--noinput", "--username", "admin", "--email", "admin@example.com"],
    }.items():
        results[name] = subprocess.run(
            [venv_bin("reflex"), "django", *args],
            cwd=original_root,
            env=original_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    return results


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])  # nothing blocked, as from a shell


class ReflexRun:
    """Plain `reflex run` (Reflex's own CLI, no `reflex-django` process) in `root`."""

    def __init__(self, root: Path, env: dict[str, str], *args: str) -> None:
        self.marker = f"RDJ_E2E_MARKER=original-{free_port()}"
        key, value = self.marker.split("=")
        self.proc = subprocess.Popen(
            [venv_bin("reflex"), "run", "--loglevel", "info", *args],
            cwd=root,
            env={**env, key: value},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            # A shell without job control starts background jobs with SIGINT ignored,
            # and Python keeps an ignored SIGINT ignored: Ctrl-C must reach Reflex.
            preexec_fn=_default_sigint,  # noqa: PLW1509 - it only resets signal state and takes no lock
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def log(self) -> str:
        return "\n".join(self.lines[-200:])

    def wait_until_serving(self, url: str, timeout: float = 600) -> None:
        def up() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"reflex run exited with {self.proc.returncode}:\n{self.log()}")
            return httpx.get(url, timeout=5).status_code == 200

        wait_for(up, timeout, f"reflex run to serve {url}", 0.5)

    def _ended(self) -> bool:
        return self.proc.poll() is not None and not processes_with_marker(self.marker)

    def stop(self) -> None:
        """Ctrl-C to the whole group, as a terminal would, then SIGTERM, then SIGKILL:
        nothing of the run is left for the next tests.

        This is Reflex's own process tree, not ours (our no-orphans promise is tested
        on `reflex-django run`): its production server waits for open connections
        without a deadline, which on a loaded machine can outlast the grace. A run that
        needed SIGKILL is reported as a warning with the processes' command lines."""
        for sig, grace in ((signal.SIGINT, 45), (signal.SIGTERM, 15)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                wait_for(self._ended, grace, "reflex run's processes to end", 0.2)
                return
            except AssertionError:
                continue
        left = [described(pid) for pid in processes_with_marker(self.marker)]
        for pid in processes_with_marker(self.marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        warnings.warn(f"reflex run needed SIGKILL: {left}\n{self.log()[-2000:]}", stacklevel=2)


@pytest.fixture(scope="class")
def dev(original_root, original_env, managed) -> Iterator[dict[str, str]]:
    """Plain `reflex run` in dev, for the tests of one class (it must be gone before
    `--env prod` rebuilds the same `.web`)."""
    frontend, backend = free_port(), free_port()
    run = ReflexRun(original_root, original_env, "--frontend-port", str(frontend), "--backend-port", str(backend))
    urls = {"frontend": f"http://localhost:{frontend}", "backend": f"http://localhost:{backend}"}
    try:
        run.wait_until_serving(f"{urls['backend']}/ping")
        run.wait_until_serving(f"{urls['frontend']}/")
        yield urls
    finally:
        run.stop()


def test_reflex_django_forwards_manage_commands(managed, original_root):
    for name, done in managed.items():
        assert done.returncode == 0, (name, done.stdout, done.stderr)
    assert "Applying auth.0001_initial" in managed["migrate"].stdout
    assert (original_root / "db.sqlite3").is_file()


@contextmanager
def login(base: str, password: str) -> Iterator[httpx.Client]:
    """Signs in through Django's admin form at `base`; yields the client holding the session."""
    with httpx.Client(base_url=base, timeout=30) as client:
        form = client.get("/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        answer = client.post(
            "/admin/login/?next=/admin/",
            data={"csrfmiddlewaretoken": token, "username": "admin", "password": password, "next": "/admin/"},
            headers={"Referer": f"{base}/admin/login/", "Origin": base},
        )
        assert answer.status_code == 302, (base, answer.status_code, answer.text[:500])
        assert answer.headers["location"] == "/admin/"
        yield client


class TestPlainReflexRun:
    """Dev: Reflex's backend port and Vite's both answer Django's paths."""

    def test_plain_reflex_run_serves_django_on_both_ports(self, dev, admin_password):
        for base in dev.values():
            assert title(httpx.get(f"{base}/admin/login/")) == ADMIN_TITLE, base
            css = httpx.get(f"{base}/static/admin/css/base.css")
            assert css.status_code == 200 and "text/css" in css.headers["content-type"], base
            with login(base, admin_password) as client:
                assert title(client.get("/admin/")) == "Site administration | Django site admin"
        # The app is Reflex's, on the frontend port.
        assert "Django" not in title(httpx.get(f"{dev['frontend']}/"))
        # Reflex lets any origin read its answers with credentials; Django's pages
        # are left to Django, as under the front door.
        cross_site = {"Origin": "http://evil.example", "Cookie": "sessionid=x"}
        backend = dev["backend"]
        assert "access-control-allow-origin" not in httpx.get(f"{backend}/admin/login/", headers=cross_site).headers
        assert httpx.get(f"{backend}/ping", headers=cross_site).headers["access-control-allow-origin"]

    def test_plain_reflex_run_shows_the_django_user_in_the_browser(self, dev, page, admin_password):
        base = dev["frontend"]
        page.goto(f"{base}/")
        page.wait_for_function("() => document.querySelector('#whoami')?.textContent === 'anonymous'")
        page.goto(f"{base}/admin/login/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", admin_password)
        page.click("input[type=submit]")
        page.wait_for_url(f"{base}/admin/")
        page.goto(f"{base}/")
        page.wait_for_function("() => document.querySelector('#whoami')?.textContent === 'admin'")
        assert page.inner_text("#whoami") == "admin"

    def test_a_0_2_3_session_login_form_signs_in_with_an_httponly_cookie(self, dev, browser, admin_password):
        """`session_auth_mixin` as 0.2.3 documented it, in a project whose URLconf is
        startproject's (no `reflex_django.urls`): the hand-off view still sets the cookie."""
        base = dev["frontend"]
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            page.goto(f"{base}/login")
            page.fill("#username", "admin")
            page.fill("#password", admin_password)
            page.click("#sign-in")
            page.wait_for_url(f"{base}/")
            page.wait_for_function("() => document.querySelector('#whoami')?.textContent === 'admin'")
            [session] = [c for c in context.cookies() if c["name"] == "sessionid"]
            assert session["httpOnly"] is True
        finally:
            context.close()


def test_reflex_run_env_prod_serves_everything_on_one_port(original_root, original_env, managed, admin_password):
    sys.path.insert(0, str(REPO / "bench"))
    from reflex_events import event_rate

    port = free_port()
    ports = ("--frontend-port", str(port), "--backend-port", str(port))
    run = ReflexRun(original_root, original_env, "--env", "prod", *ports)
    base = f"http://localhost:{port}"
    try:
        run.wait_until_serving(f"{base}/ping", timeout=900)
        run.wait_until_serving(f"{base}/")
        home = httpx.get(f"{base}/")
        assert title(home) == "Original plugin project"
        assert title(httpx.get(f"{base}/admin/login/")) == ADMIN_TITLE
        assert httpx.get(f"{base}/static/admin/css/base.css").status_code == 200
        with login(base, admin_password):
            pass
        # The event WebSocket on the same port (it must not fall into the static mount).
        assert event_rate(base, 0.5) > 0
    finally:
        run.stop()


def test_the_same_project_under_reflex_django_run(original_root, run_env, managed, admin_password):
    stack = Stack(original_root, run_env)
    try:
        stack.start()
        for base in (stack.app_url, stack.front_door_url):
            assert title(httpx.get(f"{base}/admin/login/")) == ADMIN_TITLE, base
        with login(stack.app_url, admin_password) as client:
            assert title(client.get("/admin/")) == "Site administration | Django site admin"
        # The front door routes; the plugin inside Reflex stepped aside.
        assert "inside Reflex" not in stack.log()
    finally:
        code = stack.finish()
    assert code == 0, stack.log()
