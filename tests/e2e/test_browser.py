"""In headless Chromium, on a project made by `init` and served by `run`: the home page
says who is signed in (the event bridge reads Django's session over the WebSocket),
the admin works through both public ports, and a note added there appears. The admin's
colour theme and the app's stay apart (both live in this origin's localStorage)."""

from __future__ import annotations

import re

import pytest

from e2e_support import screenshot, signed_in_as, wait_for


@pytest.mark.parametrize("port", ["app", "front_door"])
def test_admin_login_is_seen_by_the_reflex_app(stack, page, admin_password, port):
    base = stack.app_url if port == "app" else stack.front_door_url
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    page.goto(f"{base}/")
    assert signed_in_as(page) == "anonymous"
    # The Socket.IO connection goes through the front door on both ports.
    assert any(url.startswith(stack.front_door_url.replace("http", "ws") + "/_event") for url in sockets), sockets

    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", admin_password)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/$"))
    assert page.title() == "Site administration | Django site admin"
    # The admin's CSS came through as well.
    assert page.evaluate("getComputedStyle(document.querySelector('#header')).backgroundColor") != "rgba(0, 0, 0, 0)"
    session = next(c for c in page.context.cookies() if c["name"] == "sessionid")
    assert session["httpOnly"]
    screenshot(page, f"admin-{port}")

    page.goto(f"{base}/")
    wait_for(lambda: signed_in_as(page) == "admin", 20, "the home page to show the admin")

    # The admin lists the Note model; a note added there shows up on the home page.
    page.goto(f"{base}/admin/")
    assert page.locator("a", has_text="Notes").first.is_visible()
    page.goto(f"{base}/admin/notes/note/add/")
    title = f"Note from the admin via {port}"
    page.select_option("#id_user", label="admin")
    page.fill("#id_title", title)
    page.fill("#id_content", "written in the browser test")
    page.click("input[name=_save]")
    page.wait_for_url(re.compile(r".*/admin/notes/note/$"))
    assert page.locator("#result_list", has_text=title).is_visible()

    page.goto(f"{base}/api/notes/")
    assert title in page.inner_text("body")
    page.goto(f"{base}/")
    wait_for(lambda: signed_in_as(page) == "admin", 20, "the home page")
    count = int(page.inner_text("#note-count").split()[0])
    assert count >= 1
    wait_for(lambda: page.inner_text("#nav-user") == "admin", 20, "the nav bar to show the admin")

    # The admin's theme toggle works and keeps its choice under its own key; the app's
    # colour mode stays as the app left it. Neither ever saw the other's value.
    app_theme = page.evaluate("localStorage.getItem('theme')")
    assert app_theme in ("light", "dark", "system"), app_theme
    page.goto(f"{base}/admin/")
    before = page.evaluate("document.documentElement.dataset.theme")
    page.click("#header .theme-toggle")
    after = page.evaluate("document.documentElement.dataset.theme")
    assert before == "auto" and after in ("light", "dark"), (before, after)
    page.goto(f"{base}/")
    wait_for(lambda: signed_in_as(page) == "admin", 20, "the home page")
    assert page.evaluate("localStorage.getItem('django-admin-theme')") == after
    assert page.evaluate("localStorage.getItem('theme')") == app_theme
    clashes = [e for e in errors if "invalid theme mode" in e.lower() or "invalid color mode" in e.lower()]
    assert not clashes, clashes
