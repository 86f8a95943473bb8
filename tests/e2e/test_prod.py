"""Production: `reflex-django build`, then `reflex-django run --env prod` on one port,
with real Django (uvicorn workers), Reflex's production backend and headless
Chromium, on a copy of the project `init` made."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from e2e_support import Stack, binary, free_port, serving, signed_in_as, title, wait_for


@pytest.fixture(scope="module")
def prod(prod_root, run_env):
    yield from serving(Stack(prod_root, run_env, prod=True))


def test_build_leaves_a_stamp_and_compressed_variants(prod_root):
    assert (prod_root / ".web/build/reflex-django-build.json").is_file()
    client = prod_root / ".web/build/client"
    assert (client / "index.html").is_file()
    assert any(p.name.endswith(".js.br") for p in (client / "assets").iterdir())
    static = prod_root / "staticfiles/admin/css/base.css"
    assert static.is_file() and Path(f"{static}.br").is_file() and Path(f"{static}.gz").is_file()


def test_the_app_is_served_without_bun_or_vite(prod):
    home = httpx.get(f"{prod.app_url}/")
    assert home.status_code == 200 and "<html" in home.text
    assert home.headers["content-type"] == "text/html; charset=utf-8"
    assert "Django site admin" not in home.text
    assert httpx.get(f"{prod.app_url}/notes").status_code == 200
    missing = httpx.get(f"{prod.app_url}/no-such-page")
    assert missing.status_code == 404 and "<html" in missing.text
    assert httpx.get(f"{prod.app_url}/ping").json() == "pong"
    assert httpx.get(f"{prod.app_url}/api/notes/").json() == {"error": "sign in first"}
    assert title(httpx.get(f"{prod.app_url}/admin/login/")) == "Log in | Django site admin"
    commands = prod.commands()
    assert not [c for c in commands if "bun" in c or "vite" in c], commands
    assert "--env prod" in prod.log() and "worker" in prod.log()


def test_static_files_are_cached_and_compressed(prod):
    url = f"{prod.app_url}/static/admin/css/base.css"
    first = httpx.get(url)
    assert first.status_code == 200 and "text/css" in first.headers["content-type"]
    etag = first.headers["etag"]
    again = httpx.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    br = httpx.get(url, headers={"Accept-Encoding": "br"})
    assert br.headers["content-encoding"] == "br" and br.headers["vary"] == "Accept-Encoding"
    home = httpx.get(f"{prod.app_url}/")
    asset = re.search(r'src="(/assets/[^"]+\.js)"', home.text) or re.search(r'href="(/assets/[^"]+)"', home.text)
    assert asset, home.text[:500]
    hashed = httpx.get(f"{prod.app_url}{asset.group(1)}")
    assert hashed.status_code == 200
    assert hashed.headers["cache-control"] == "public, max-age=31536000, immutable"


def cookies_of(response: httpx.Response) -> dict[str, str]:
    """Cookies set by `response`, Secure ones included (httpx keeps those for https)."""
    jar = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        jar[name] = rest.split(";", 1)[0]
    return jar


def test_admin_login_post_redirects_with_a_secure_httponly_session(prod, admin_password):
    base = prod.app_url
    form = httpx.get(f"{base}/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    jar = cookies_of(form)
    answer = httpx.post(
        f"{base}/admin/login/?next=/admin/",
        data={"csrfmiddlewaretoken": token, "username": "admin", "password": admin_password, "next": "/admin/"},
        headers={"Cookie": f"csrftoken={jar['csrftoken']}", "Origin": base, "Referer": f"{base}/admin/login/"},
    )
    assert answer.status_code == 302, (answer.status_code, answer.text[:500])
    assert answer.headers["location"] == "/admin/"
    session = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("sessionid="))
    # DEBUG is off under --env prod in the project init made: the cookie is Secure.
    assert "HttpOnly" in session and "Secure" in session
    admin = httpx.get(f"{base}/admin/", headers={"Cookie": f"sessionid={cookies_of(answer)['sessionid']}"})
    assert title(admin) == "Site administration | Django site admin"


def test_health_is_503_until_both_children_are_ready(prod_root, run_env):
    stack = Stack(prod_root, run_env, prod=True)
    seen: list[int] = []
    try:
        stack.launch()

        def poll():
            try:
                seen.append(httpx.get(f"{stack.app_url}/_reflex_django/health", timeout=2).status_code)
            except httpx.TransportError:
                return False
            return seen[-1] == 200

        wait_for(poll, 120, "health to say ready", 0.05)
        assert seen[0] == 503, seen
        assert httpx.get(f"{stack.app_url}/_reflex_django/health").json()["status"] == "ready"
        assert stack.stop() == 0, stack.log()
    finally:
        stack.kill_everything()


def test_sigterm_lets_a_slow_request_finish_then_everything_exits(prod_root, run_env):
    stack = Stack(prod_root, run_env, prod=True, args=("--workers", "1"))
    try:
        stack.start(timeout=180)
        answers: list[httpx.Response | Exception] = []

        def slow():
            try:
                answers.append(httpx.get(f"{stack.app_url}/api/slow/?s=2", timeout=30))
            except Exception as exc:  # reported by the assertion below
                answers.append(exc)

        thread = threading.Thread(target=slow)
        thread.start()
        time.sleep(0.5)  # the request is in Django's hands
        assert stack.stop(sig=signal.SIGTERM) == 0, stack.log()
        thread.join(10)
        assert len(answers) == 1 and isinstance(answers[0], httpx.Response), answers
        assert answers[0].status_code == 200 and answers[0].json() == {"slow": "done"}
        wait_for(lambda: not stack.leftovers(), 5, "every process of the run to end", 0.2)
    finally:
        stack.kill_everything()


def test_a_stale_build_is_refused_with_a_hint(prod_root, run_env):
    app = next(p for p in prod_root.iterdir() if (p / f"{p.name}.py").is_file() and p.name != "notes")
    source = app / f"{app.name}.py"
    original = source.read_text()
    try:
        source.write_text(original + "\n# edited after the build\n")
        run = subprocess.run(
            [binary(), "run", "--env", "prod", "--port", str(free_port())],
            cwd=prod_root,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode != 0
        assert f"{app.name}/{app.name}.py changed" in run.stderr, run.stderr
        assert "hint: run `reflex-django build` again" in run.stderr, run.stderr
    finally:
        source.write_text(original)


def test_the_reflex_page_shows_the_admin_after_login(prod, page, admin_password):
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(f"{prod.app_url}/")
    assert signed_in_as(page) == "anonymous"
    # The built frontend talks to the origin that served it: this front door.
    assert any(url.startswith(f"ws://localhost:{prod.port}/_event") for url in sockets), sockets

    page.goto(f"{prod.app_url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", admin_password)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/$"))
    # The admin's CSS, served from STATIC_ROOT by the front door.
    assert page.evaluate("getComputedStyle(document.querySelector('#header')).backgroundColor") != "rgba(0, 0, 0, 0)"
    page.goto(f"{prod.app_url}/")
    wait_for(lambda: signed_in_as(page) == "admin", 20, "the home page to show the admin")

    # A path the app does not have: its own 404 page (nav bar and all), status 404.
    answer = page.goto(f"{prod.app_url}/no/such/page")
    assert answer is not None and answer.status == 404
    page.locator("#not-found").wait_for()
    wait_for(lambda: page.inner_text("#nav-user") == "admin", 20, "the nav bar to show the admin")
