"""The canned auth pages and `DjangoAuthState`, through Reflex's real event path; the
browser's side of the hand-off is a GET through Django's middleware."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import reflex as rx
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.test import override_settings

from auth_helpers import browser_get, last_load, navigations, session_cookie_of
from dbthread import in_db_thread
from reflex_django import DjangoUserState
from reflex_django.auth import add_auth_pages, login_required, routes
from reflex_django.auth.accounts import wait_for_outgoing_mail
from reflex_django.auth.conf import DEFAULT_MESSAGES as M
from reflex_django.auth.pages import (
    login_page,
    password_reset_confirm_page,
    password_reset_page,
    register_page,
)
from reflex_django.auth.state import DjangoAuthState
from reflex_harness import Reflex, Tab, bridged_app, fresh_app, running

PACKAGE = Path(__file__).resolve().parents[1] / "reflex_django"


@pytest.fixture
async def reflex() -> AsyncIterator[Reflex]:
    mail.outbox = []
    async with running(bridged_app()) as r:
        yield r


async def signed_in_tab(reflex: Reflex, cookie: str) -> Tab:
    return await reflex.tab(cookies={settings.SESSION_COOKIE_NAME: cookie})


async def auth(reflex: Reflex, tab: Tab) -> Any:
    return await reflex.state(tab, DjangoAuthState)


async def submit_login(reflex: Reflex, username: str, password: str, url: str = "/login") -> Tab:
    """A new tab that submits the sign-in form on `url`."""
    tab = await reflex.tab()
    await tab.send(
        DjangoAuthState.submit_login_form,
        url=url,
        form_data={"username": username, "password": password},
    )
    await reflex.settle()
    return tab


# --- pages -------------------------------------------------------------------------


def test_public_names() -> None:
    import reflex_django.auth as package

    assert package.DjangoAuthState is DjangoAuthState
    assert package.add_auth_pages is add_auth_pages and package.routes is routes
    assert set(package.__all__) <= set(dir(package))


def test_add_auth_pages_registers_the_enabled_pages() -> None:
    app = fresh_app()
    assert add_auth_pages(app) == [
        "/login",
        "/register",
        "/password-reset",
        "/password-reset/confirm/[uid]/[key]",
    ]
    assert set(app._unevaluated_pages) == {
        "login",
        "register",
        "password-reset",
        "password-reset/confirm/[uid]/[key]",
    }
    assert app._unevaluated_pages["login"].on_load == DjangoAuthState.on_load_login


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            {"SIGNUP_ENABLED": False},
            ["/signin", "/password-reset", "/password-reset/confirm/[uid]/[key]"],
        ),
        ({"PASSWORD_RESET_ENABLED": False}, ["/signin", "/register"]),
        ({"ENABLED": False}, []),
    ],
)
def test_disabled_pages_are_not_added(given: dict, expected: list[str]) -> None:
    with override_settings(REFLEX_DJANGO_AUTH={"LOGIN_URL": "/signin", **given}):
        assert add_auth_pages(fresh_app()) == expected


def test_the_apps_own_pages_win() -> None:
    app = fresh_app()

    def my_login() -> rx.Component:
        return rx.text("mine")

    app.add_page(my_login, route="/login")
    assert "/login" not in add_auth_pages(app)
    assert app._unevaluated_pages["login"].component is my_login


def test_a_layout_frames_every_page() -> None:
    app = fresh_app()

    def framed(content: rx.Component) -> rx.Component:
        return rx.box(rx.text("the app's nav"), content, id="app-frame")

    added = add_auth_pages(app, layout=framed)
    assert len(added) == 4
    for route, form in [
        ("login", "login-form"),
        ("register", "register-form"),
        ("password-reset", "reset-form"),
        ("password-reset/confirm/[uid]/[key]", "reset-confirm-form"),
    ]:
        page = app._unevaluated_pages[route]
        rendered = str(page.component().render())
        assert '"app-frame"' in rendered and f'"{form}"' in rendered, route
    assert app._unevaluated_pages["login"].on_load == DjangoAuthState.on_load_login


@pytest.mark.parametrize(
    ("page", "ids"),
    [
        (
            login_page,
            ["login-form", "login-username", "login-password", "login-submit", "login-error"],
        ),
        (
            register_page,
            ["register-form", "register-username", "register-email", "register-password1"],
        ),
        (password_reset_page, ["reset-form", "reset-email", "reset-submit", "reset-sent"]),
        (
            password_reset_confirm_page,
            ["reset-confirm-form", "reset-confirm-password1", "reset-confirm-done"],
        ),
    ],
)
def test_pages_render_with_stable_ids(page: Any, ids: list[str]) -> None:
    rendered = str(page().render())
    for id_ in ids:
        assert f'"{id_}"' in rendered, id_


def test_messages_reach_the_pages() -> None:
    with override_settings(REFLEX_DJANGO_AUTH={"MESSAGES": {"login_button": "Let me in"}}):
        assert "Let me in" in str(login_page().render())


def test_no_session_id_is_ever_written_from_javascript() -> None:
    # session_js.py keeps reflex-django 0.2.3's snippets for code that calls them;
    # nothing in the package uses it (`reflex_django/__init__.py` only names it).
    compat = PACKAGE / "session_js.py"
    for path in PACKAGE.rglob("*.py"):
        if path == compat:
            continue
        text = path.read_text()
        assert "document.cookie" not in text, path
        if path != PACKAGE / "__init__.py":
            assert "session_js" not in text, path


# --- sign in / sign out -------------------------------------------------------------


async def test_sign_in_hands_the_session_to_the_browser(reflex: Reflex, make_user) -> None:
    user = make_user()
    tab = await submit_login(reflex, user.username, "pw", url="/login?next=/notes")
    state = await auth(reflex, tab)
    assert state.login_error == ""
    url = last_load(tab)
    assert url.startswith("/_reflex_django/session/?ticket=")
    response = browser_get(url)
    assert response.status_code == 302 and response["Location"] == "/notes"
    assert response.cookies[settings.SESSION_COOKIE_NAME]["httponly"] is True
    # After the reload the new socket carries the cookie: the bridge sees the user.
    again = await signed_in_tab(reflex, session_cookie_of(response))
    await again.send(DjangoUserState.sync_from_django, url="/notes")
    await reflex.settle()
    snapshot = await reflex.state(again, DjangoUserState)
    assert snapshot.username == user.username and snapshot.is_authenticated


async def test_next_outside_the_site_is_ignored(reflex: Reflex, make_user) -> None:
    tab = await submit_login(reflex, make_user().username, "pw", "/login?next=https://x.example/")
    assert browser_get(last_load(tab))["Location"] == "/"  # LOGIN_REDIRECT_URL


async def test_wrong_password(reflex: Reflex, make_user) -> None:
    tab = await submit_login(reflex, make_user().username, "nope")
    assert (await auth(reflex, tab)).login_error == M["invalid_credentials"]
    assert navigations(tab) == []


async def test_login_page_sends_signed_in_users_on(reflex: Reflex, make_user, login) -> None:
    tab = await signed_in_tab(reflex, login(make_user()))
    await tab.send(DjangoAuthState.on_load_login, url="/login")
    await tab.send(DjangoAuthState.on_load_login, url="/login?next=/notes")
    await reflex.settle()
    assert navigations(tab) == [("page", "/"), ("page", "/notes")]
    anonymous = await reflex.tab()
    await anonymous.send(DjangoAuthState.on_load_login, url="/login")
    await reflex.settle()
    assert navigations(anonymous) == []


async def test_sign_out(reflex: Reflex, make_user, login) -> None:
    cookie = login(make_user())
    tab = await signed_in_tab(reflex, cookie)
    await tab.send(DjangoAuthState.logout, url="/notes")
    await reflex.settle()
    assert not in_db_thread(SessionStore().exists, cookie)
    assert not (await auth(reflex, tab)).is_authenticated
    response = browser_get(last_load(tab), cookie=cookie)
    assert response.status_code == 302 and response["Location"] == "/login"
    assert session_cookie_of(response) == ""


# --- registration -------------------------------------------------------------------


async def test_sign_up_signs_in(reflex: Reflex) -> None:
    tab = await reflex.tab()
    form = {
        "username": "newcomer",
        "email": "",
        "password1": "long enough",
        "password2": "long enough",
    }
    with override_settings(REFLEX_DJANGO_AUTH={"SIGNUP_REDIRECT_URL": "/notes"}):
        await tab.send(DjangoAuthState.submit_register_form, url="/register", form_data=form)
        await reflex.settle()
        response = browser_get(last_load(tab))
    assert response.status_code == 302 and response["Location"] == "/notes"
    user = in_db_thread(User.objects.get, username="newcomer")
    key = session_cookie_of(response)
    assert in_db_thread(lambda: SessionStore(key).get("_auth_user_id")) == str(user.pk)


async def test_sign_up_errors(reflex: Reflex, make_user) -> None:
    taken = make_user()
    tab = await reflex.tab()
    form = {
        "username": taken.username.upper(),
        "password1": "long enough",
        "password2": "long enough",
    }
    await tab.send(DjangoAuthState.submit_register_form, url="/register", form_data=form)
    await reflex.settle()
    assert (await auth(reflex, tab)).register_error == M["username_taken"]
    with override_settings(REFLEX_DJANGO_AUTH={"SIGNUP_ENABLED": False}):
        form = {"username": "fresh", "password1": "long enough", "password2": "long enough"}
        await tab.send(DjangoAuthState.submit_register_form, url="/register", form_data=form)
        await reflex.settle()
    assert not in_db_thread(User.objects.filter(username="fresh").exists)
    assert navigations(tab) == [("page", "/login")]


# --- password reset -----------------------------------------------------------------


async def test_password_reset_through_the_pages(reflex: Reflex, make_user) -> None:
    user = make_user(email="pages@example.com")
    # The Host header is the attacker's choice; the link must not use it.
    tab = await reflex.tab(host="evil.example", origin="http://evil.example")
    for email in ("nobody@example.com", "pages@example.com"):
        await tab.send(
            DjangoAuthState.submit_password_reset_form,
            url="/password-reset",
            form_data={"email": email},
        )
        await reflex.settle()
        state = await auth(reflex, tab)
        assert (state.reset_sent, state.reset_error) == (True, "")  # the same answer
    wait_for_outgoing_mail()
    [sent] = mail.outbox
    link = re.search(r"https://\S+", sent.body).group(0)
    assert link.startswith("https://app.example.com/password-reset/confirm/")
    path = link.removeprefix("https://app.example.com")

    page = await reflex.tab()
    await page.send(DjangoAuthState.on_load_password_reset_confirm, url=path)
    await reflex.settle()
    assert (await auth(reflex, page)).reset_link_valid
    form = {"password1": "brand new pass", "password2": "brand new pass"}
    await page.send(DjangoAuthState.submit_password_reset_confirm_form, url=path, form_data=form)
    await reflex.settle()
    state = await auth(reflex, page)
    assert state.reset_done and state.reset_confirm_error == ""
    assert in_db_thread(lambda: User.objects.get(pk=user.pk).check_password("brand new pass"))

    await page.send(DjangoAuthState.on_load_password_reset_confirm, url=path)
    await page.send(DjangoAuthState.submit_password_reset_confirm_form, url=path, form_data=form)
    await reflex.settle()
    state = await auth(reflex, page)
    assert not state.reset_link_valid and not state.reset_done
    assert state.reset_confirm_error == M["reset_link_invalid"]


async def test_password_reset_confirm_with_a_bad_link(reflex: Reflex) -> None:
    tab = await reflex.tab()
    await tab.send(
        DjangoAuthState.on_load_password_reset_confirm,
        url=routes.password_reset_confirm_path("MQ", "x-y"),
    )
    await reflex.settle()
    state = await auth(reflex, tab)
    assert not state.reset_link_valid and state.reset_confirm_error == M["reset_link_invalid"]


# --- the page guard -----------------------------------------------------------------


async def test_require_login_sends_anonymous_users_to_the_login_page(reflex: Reflex, make_user, login) -> None:
    anonymous = await reflex.tab()
    await anonymous.send(DjangoAuthState.require_login, url="/dashboard?tab=2")
    signed_in = await signed_in_tab(reflex, login(make_user()))
    await signed_in.send(DjangoAuthState.require_login, url="/dashboard")
    await reflex.settle()
    assert navigations(anonymous) == [("page", "/login?next=%2Fdashboard%3Ftab%3D2")]
    assert navigations(signed_in) == []
    assert (await auth(reflex, signed_in)).is_authenticated


def test_login_required_wraps_a_page() -> None:
    def dashboard() -> rx.Component:
        return rx.heading("Members only", id="members")

    guarded = login_required(dashboard)
    assert guarded.__name__ == "dashboard"
    rendered = str(guarded().render())
    assert '"members"' in rendered and '"login-required"' in rendered
