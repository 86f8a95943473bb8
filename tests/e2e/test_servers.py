"""Django under each server `run` offers: granian (which Reflex installs) and Django's
own `runserver`, besides uvicorn (the default, used by the other tests)."""

from __future__ import annotations

import re

import httpx
import pytest

from e2e_support import Stack


@pytest.mark.parametrize(("server", "needle"), [("granian", "granian"), ("runserver", "runserver")])
def test_django_under_each_server(demo_root, run_env, server, needle):
    stack = Stack(demo_root, {**run_env, "REFLEX_DJANGO_DJANGO_SERVER": server})
    try:
        stack.start()
        assert f"internal   {server} on 127.0.0.1" in stack.log()
        assert stack.child_pid(needle)
        for base in (stack.front_door_url, stack.app_url):
            login = httpx.get(f"{base}/admin/login/")
            assert re.search(r"<title>Log in \| Django site admin</title>", login.text), base
            css = httpx.get(f"{base}/static/admin/css/base.css")
            assert css.status_code == 200, (base, css.status_code)
        assert stack.stop() == 0, stack.log()
    finally:
        stack.kill_everything()
