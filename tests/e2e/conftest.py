"""End-to-end harness: a demo project made by `reflex-django init`, served by the real
`reflex-django run` (real Django, real Reflex, real bun/Vite), driven over HTTP and
with headless Chromium.

One project per test session, so the Reflex frontend packages are installed once;
each test module starts its own `run` on free ports and stops it at the end, checking
that nothing it started is left running.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, Stack, binary


@pytest.fixture(scope="session")
def admin_password() -> str:
    return "e2e-" + secrets.token_hex(8)


@pytest.fixture(scope="session")
def run_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFLEX_DJANGO_") or k == "REFLEX_DJANGO_BIN"}
    # Set by python/tests/conftest.py when both suites run in one pytest: the children
    # must see what a user's shell has (Reflex's state in Redis when REFLEX_REDIS_URL
    # says so, the project's own settings).
    for name in ("DJANGO_SETTINGS_MODULE", "REFLEX_STATE_MANAGER_MODE", "RDJ_TEST_DB"):
        env.pop(name, None)
    python = os.environ.get("REFLEX_DJANGO_TEST_PYTHON")
    if python:
        env["VIRTUAL_ENV"] = str(Path(python).parent.parent)
    return env


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory, admin_password, run_env) -> Path:
    """The demo project, made once per session by `reflex-django init`."""
    root = tmp_path_factory.mktemp("e2e") / "demo"
    result = subprocess.run(
        [binary(), "init", str(root), "--superuser", "admin"],
        env={**run_env, "DJANGO_SUPERUSER_PASSWORD": admin_password},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.fixture(scope="module")
def stack(demo_root, run_env) -> Iterator[Stack]:
    s = Stack(demo_root, run_env)
    try:
        s.start()
        yield s
    finally:
        code = s.finish()
        assert code == 0, f"run exited with {code}:\n{s.log()}"


# Without Chromium the browser tests are skipped, said in one line at the end; CI sets
# RDJ_REQUIRE_BROWSER=1, which makes a missing Chromium a failure instead.
BROWSER_MISSING = (
    None
    if os.access(CHROMIUM, os.X_OK)
    else f"Chromium not found at {CHROMIUM}: the browser tests are skipped "
    "(apt-get install chromium, or set REFLEX_DJANGO_CHROMIUM to its path)"
)


def pytest_terminal_summary(terminalreporter):
    if BROWSER_MISSING:
        terminalreporter.write_line(f"browser tests: {BROWSER_MISSING}", yellow=True)
    # The uv test needs the wheel that `scripts/test` builds: one line when it was
    # skipped for want of it.
    for report in terminalreporter.stats.get("skipped", []):
        if "test_init_uv.py" in report.nodeid and isinstance(report.longrepr, tuple):
            reason = report.longrepr[2].removeprefix("Skipped: ")
            terminalreporter.write_line(f"uv init test: {reason}", yellow=True)
            break


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if BROWSER_MISSING:
        if os.environ.get("RDJ_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{BROWSER_MISSING}; RDJ_REQUIRE_BROWSER=1 makes that a failure")
        pytest.skip(BROWSER_MISSING)

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    finally:
        context.close()


SLOW_VIEW = """

def slow(request):
    import time

    time.sleep(float(request.GET.get("s", "3")))
    return JsonResponse({"slow": "done"})


def who(request):
    return JsonResponse({
        "remote_addr": request.META["REMOTE_ADDR"],
        "host": request.get_host(),
        "url": request.build_absolute_uri(),
    })
"""

COUNTER_PAGE = """


class CounterState(rx.State):
    \"\"\"A value that lives only in Reflex's state (memory, disk or Redis).\"\"\"

    count: int = 0

    @rx.event
    def bump(self):
        self.count += 1


def counter() -> rx.Component:
    return rx.vstack(
        rx.text(CounterState.count, id="count"),
        rx.button("+1", on_click=CounterState.bump, id="bump"),
    )


app.add_page(counter, route="/counter")
"""


@pytest.fixture(scope="session")
def prod_root(demo_root, tmp_path_factory, run_env) -> Path:
    """A copy of the demo with a slow Django view, one that tells who asked, and a
    counter page, built for production once for every test that serves it."""
    root = tmp_path_factory.mktemp("prod") / "demo"
    shutil.copytree(demo_root, root, symlinks=True, ignore=shutil.ignore_patterns("staticfiles"))
    views, urls = root / "notes" / "views.py", root / "notes" / "urls.py"
    views.write_text(views.read_text() + SLOW_VIEW)
    routes = "urlpatterns = [\n    path('slow/', views.slow),\n    path('who/', views.who),"
    urls.write_text(urls.read_text().replace("urlpatterns = [", routes))
    [app_module] = [p for p in root.glob("*/*.py") if "app = rx.App(" in p.read_text()]
    app_module.write_text(app_module.read_text() + COUNTER_PAGE)
    built = subprocess.run([binary(), "build"], cwd=root, env=run_env, capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    assert "talks to the origin that serves it" in built.stdout, built.stdout
    return root
