"""Helpers for the tests that sign in through the real Reflex event path."""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.test import Client

from dbthread import in_db_thread
from reflex_harness import Tab

_REPLACE = re.compile(r"^window\.location\.replace\((.*)\)$", re.DOTALL)


def navigations(tab: Tab) -> list[tuple[str, str]]:
    """What the backend told the tab's browser to load, oldest first: `("page", path)`
    for Reflex's client-side `rx.redirect`, `("load", url)` for a full page load."""
    found = []
    for event in tab.frontend_events():
        if event.name == "_redirect":
            found.append(("page", str(_value(event.payload["path"]))))
        elif event.name == "_call_script":
            code = str(_value(event.payload["javascript_code"]))
            match = _REPLACE.match(code)
            assert match, f"unexpected script sent to the browser: {code}"
            found.append(("load", json.loads(match.group(1))))
    return found


def _value(value: Any) -> Any:
    """A payload value: plain, or a Reflex literal Var."""
    raw = getattr(value, "_var_value", value)
    return raw


def last_load(tab: Tab) -> str:
    loads = [url for kind, url in navigations(tab) if kind == "load"]
    assert loads, f"no full page load; navigations: {navigations(tab)}"
    return loads[-1]


def browser_get(url: str, cookie: str | None = None) -> Any:
    """The browser following a navigation the app's page made (a redirect from an
    event: same origin): a GET through Django's middleware."""
    client = Client()
    if cookie:
        client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    return in_db_thread(client.get, url, headers={"Sec-Fetch-Site": "same-origin"})


def session_cookie_of(response: Any) -> str | None:
    morsel = response.cookies.get(settings.SESSION_COOKIE_NAME)
    return morsel.value if morsel is not None else None
