"""`reflex-django run` with real Django and real Reflex: both public ports serve the
whole app, Django restarts on its own code changes, crashes are recovered, Reflex's
recompiles keep the Vite rules, and database writes restart nothing."""

from __future__ import annotations

import os
import re
import signal
import time

import httpx
import pytest

from e2e_support import title, wait_for


@pytest.fixture(scope="module")
def urls(stack):
    return [stack.app_url, stack.front_door_url]


def test_both_ports_serve_django_and_the_reflex_app(stack, urls):
    for base in urls:
        login = httpx.get(f"{base}/admin/login/")
        # The dev server answers unknown paths with the app, so check the body.
        assert title(login) == "Log in | Django site admin", base
        css = httpx.get(f"{base}/static/admin/css/base.css")
        assert css.status_code == 200 and "text/css" in css.headers["content-type"], base
        home = httpx.get(f"{base}/")
        assert home.status_code == 200 and "<html" in home.text, base
        assert "Django site admin" not in home.text
        assert httpx.get(f"{base}/api/notes/").json() == {"error": "sign in first"}
    assert httpx.get(f"{stack.front_door_url}/ping").json() == "pong"


def test_admin_login_post_passes_csrf_and_sets_an_httponly_session(stack, urls, admin_password):
    for base in urls:
        with httpx.Client(base_url=base) as client:
            form = client.get("/admin/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
            answer = client.post(
                "/admin/login/?next=/admin/",
                data={"csrfmiddlewaretoken": token, "username": "admin", "password": admin_password, "next": "/admin/"},
                headers={"Referer": f"{base}/admin/login/"},
            )
            assert answer.status_code == 302, (base, answer.status_code, answer.text[:500])
            assert answer.headers["location"] == "/admin/"
            cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("sessionid="))
            assert "HttpOnly" in cookie
            assert title(client.get("/admin/")) == "Site administration | Django site admin"


def test_database_writes_restart_nothing(stack, admin_password):
    compiles, restarts = stack.count(r"Compiling"), stack.count(r"restarting")
    with httpx.Client(base_url=stack.app_url) as client:
        form = client.get("/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        client.post(
            "/admin/login/", data={"csrfmiddlewaretoken": token, "username": "admin", "password": admin_password}
        )
    time.sleep(2)  # Reflex's reloader would have reacted by now
    assert stack.count(r"Compiling") == compiles, stack.log()[-2000:]
    assert stack.count(r"restarting") == restarts, stack.log()[-2000:]


def test_editing_a_django_view_restarts_django_with_the_new_code(stack):
    views = stack.root / "notes" / "views.py"
    urls_py = stack.root / "notes" / "urls.py"
    original_views, original_urls = views.read_text(), urls_py.read_text()
    compiles = stack.count(r"Compiling")
    try:
        views.write_text(original_views + "\n\ndef version(request):\n    return JsonResponse({'version': 2})\n")
        urls_py.write_text(
            original_urls.replace("urlpatterns = [", "urlpatterns = [\n    path('version/', views.version),")
        )
        saved = time.monotonic()
        answer = wait_for(
            lambda: httpx.get(f"{stack.front_door_url}/api/version/").json() == {"version": 2},
            30,
            "the new view to answer",
        )
        print(f"save → new code answering: {time.monotonic() - saved:.2f}s")
        assert answer
        assert re.search(r"django restarting because notes/(views|urls)\.py changed", stack.log())
        # Reflex's own reloader sees the app directory too, and its process runs the
        # same Django: it recompiles as well (as the README says).
        wait_for(lambda: stack.count(r"Compiling") > compiles, 60, "Reflex's own reloader to recompile")
    finally:
        views.write_text(original_views)
        urls_py.write_text(original_urls)
    wait_for(lambda: httpx.get(f"{stack.front_door_url}/api/version/").status_code == 404, 30, "the old code")


def test_a_request_made_during_a_django_restart_succeeds(stack):
    models = stack.root / "notes" / "admin.py"
    models.write_text(models.read_text() + "\n# touched by the restart test\n")
    wait_for(lambda: "notes/admin.py changed" in stack.log(), 10, "the restart to begin", 0.02)
    # Django is restarting now; the front door holds the request until it is back.
    answer = httpx.get(f"{stack.front_door_url}/admin/login/", timeout=30)
    assert title(answer) == "Log in | Django site admin"


def test_reflex_recompile_keeps_django_paths_on_the_dev_server(stack):
    app_file = stack.root / "demo" / "demo.py"
    compiles, restarts = stack.count(r"Compiling"), stack.count(r"django restarting")
    app_file.write_text(app_file.read_text() + "\n# touched by the recompile test\n")
    wait_for(lambda: stack.count(r"Compiling") > compiles, 60, "Reflex to recompile", 0.02)
    recompiled = time.monotonic()
    wait_for(
        lambda: title(httpx.get(f"{stack.app_url}/admin/login/")) == "Log in | Django site admin",
        30,
        "Django behind the dev server after the recompile",
        0.05,
    )
    print(f"Django's paths served by the dev server {time.monotonic() - recompiled:.2f}s after the recompile")
    assert "reflex-django:begin" in (stack.root / ".web" / "vite.config.js").read_text()
    # A change in the Reflex app reloads Reflex alone.
    assert stack.count(r"django restarting") == restarts, stack.log()[-2000:]


def test_a_rewritten_vite_config_is_patched_again(stack):
    """Without the plugin, Reflex writes vite.config.js without our rules. `run` puts
    them back at once, and makes sure Vite (which restarts on each change and can
    miss the second one) really uses them."""
    vite_config = stack.root / ".web" / "vite.config.js"
    patched = vite_config.read_text()
    bare = re.sub(r"/\* reflex-django:begin.*?reflex-django:end \*/\s*", "", patched, flags=re.DOTALL)
    assert "reflex-django" not in bare and bare != patched
    vite_config.write_text(bare)
    rewritten = time.monotonic()
    wait_for(lambda: vite_config.read_text() == patched, 30, "the keeper to re-patch", 0.01)
    repatched = time.monotonic() - rewritten
    wait_for(
        lambda: title(httpx.get(f"{stack.app_url}/admin/login/")) == "Log in | Django site admin",
        30,
        "Django behind the dev server again",
        0.05,
    )
    served = time.monotonic() - rewritten
    print(f"re-patched after {repatched * 1000:.0f}ms; Django served {served:.2f}s after the rewrite")
    # Vite restarts on each change and may have kept the config without rules; once
    # it has settled, the dev server must still send Django's paths to Django.
    time.sleep(6)
    assert title(httpx.get(f"{stack.app_url}/admin/login/")) == "Log in | Django site admin"


def test_a_killed_django_server_comes_back(stack):
    pid = stack.child_pid("uvicorn")
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: re.search(r"django was killed by SIGKILL", stack.log()), 10, "the crash to be seen")
    answer = httpx.get(f"{stack.front_door_url}/admin/login/", timeout=30)
    assert title(answer) == "Log in | Django site admin"
    assert stack.child_pid("uvicorn") != pid


def test_doctor_knows_the_ports_of_the_run_serving_the_project(stack, run_env):
    import subprocess

    from e2e_support import binary

    env = {
        **run_env,
        "REFLEX_DJANGO_PROXY_PORT": str(stack.port),
        "REFLEX_DJANGO_REFLEX_FRONTEND_PORT": str(stack.frontend_port),
    }
    done = subprocess.run([binary(), "doctor"], cwd=stack.root, env=env, capture_output=True, text=True)
    out = done.stdout + done.stderr
    assert f"{stack.port} is served by `reflex-django run` (pid {stack.proc.pid})" in out, out
    assert f"{stack.frontend_port} is served by `reflex-django run`" in out, out
    assert "held by" not in out, out


def test_readiness_and_liveness_checks_and_known_noise_stay_off_the_screen(stack):
    log = stack.log()
    # The checks ask our ASGI module, which answers without Django: no `Not Found`;
    # uvicorn's access-log line of each check is known noise.
    assert not re.search(r"Not Found: /(_reflex_django/alive)?$", log, re.MULTILINE), log
    assert "/_reflex_django/alive" not in log, log
    assert "uv run reflex run" not in log, log
    assert log.count("of Node.js is out of date") <= 1, log
