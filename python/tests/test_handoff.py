"""The session hand-off: tickets minted from an event's request (as in the Reflex
process), redeemed through Django's real middleware stack with the test Client (as in
the Django process). Only the database is shared between the two."""

from __future__ import annotations

import time
from http.cookies import Morsel
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import aauthenticate, alogout
from django.contrib.sessions.backends.db import SessionStore
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from dbthread import in_db_thread
from reflex_django.handoff import DATA_KEY, SALT, aissue_ticket, safe_local_path
from reflex_django.middleware import resolve_event_request


async def event_request(cookie: str | None = None, name: str | None = None) -> Any:
    """The request the event bridge builds for an event from a tab with `cookie`."""
    headers = {"host": "localhost:3000", "origin": "http://localhost:3000"}
    if cookie:
        headers["cookie"] = f"{name or settings.SESSION_COOKIE_NAME}={cookie}"
    return await resolve_event_request({"headers": headers, "asPath": "/login", "ip": "127.0.0.1"})


async def login_ticket(user: Any, cookie: str | None = None, next_url: str = "/notes") -> str:
    request = await event_request(cookie)
    authenticated = await aauthenticate(request, username=user.username, password="pw")
    assert authenticated == user
    return await aissue_ticket(request, "login", next_url, authenticated)


def visit(url: str, cookie: str | None = None, **headers: str | None) -> Any:
    """A GET as the app's own page makes it (`Sec-Fetch-Site: same-origin`); pass
    `Sec_Fetch_Site=...` (None: no such header) for other navigations."""
    client = Client()
    if cookie:
        client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    sent = {"Sec-Fetch-Site": "same-origin"}
    sent.update({name.replace("_", "-"): value for name, value in headers.items()})
    return in_db_thread(client.get, url, headers={k: v for k, v in sent.items() if v is not None})


def session_cookie(response: Any) -> Morsel | None:
    return response.cookies.get(settings.SESSION_COOKIE_NAME)


def session_user_id(key: str) -> str | None:
    return in_db_thread(lambda: SessionStore(key).get("_auth_user_id"))


def ticket_payload(url: str) -> dict[str, Any]:
    [ticket] = parse_qs(urlsplit(url).query)["ticket"]
    return signing.loads(ticket, salt=SALT)


def with_ticket(url: str, ticket: str) -> str:
    return urlsplit(url).path + "?ticket=" + ticket


def refused(response: Any) -> bool:
    return (
        response.status_code == 400 and session_cookie(response) is None and b'id="ticket-invalid"' in response.content
    )


async def test_login_sets_an_httponly_cookie_with_djangos_settings(make_user) -> None:
    user = make_user()
    url = await login_ticket(user)
    assert url.startswith("/_reflex_django/session/?ticket=")
    response = visit(url)
    assert response.status_code == 302 and response["Location"] == "/notes"
    assert response["Cache-Control"].startswith("max-age=0")
    cookie = session_cookie(response)
    assert cookie is not None and cookie["httponly"] is True
    assert cookie["samesite"] == "Lax" and cookie["path"] == "/" and not cookie["secure"]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE
    assert session_user_id(cookie.value) == str(user.pk)
    # The next event from a tab with that cookie sees the user.
    assert (await event_request(cookie.value)).user == user
    # The staging session is gone.
    assert not in_db_thread(SessionStore().exists, ticket_payload(url)["s"])


@override_settings(
    SESSION_COOKIE_NAME="rdj_sid",
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Strict",
    SESSION_COOKIE_DOMAIN=".example.com",
    SESSION_COOKIE_PATH="/app",
    SESSION_COOKIE_AGE=600,
)
async def test_the_cookie_follows_every_session_cookie_setting(make_user) -> None:
    response = visit(await login_ticket(make_user()))
    assert response.status_code == 302
    cookie = response.cookies["rdj_sid"]
    assert cookie["httponly"] is True and cookie["secure"] is True
    assert cookie["samesite"] == "Strict" and cookie["domain"] == ".example.com"
    assert cookie["path"] == "/app" and int(cookie["max-age"]) == 600


@override_settings(SESSION_EXPIRE_AT_BROWSER_CLOSE=True)
async def test_browser_session_cookie(make_user) -> None:
    cookie = session_cookie(visit(await login_ticket(make_user())))
    assert cookie is not None and cookie["max-age"] == "" and cookie["expires"] == ""


async def test_a_ticket_works_once(make_user) -> None:
    url = await login_ticket(make_user())
    assert visit(url).status_code == 302
    assert refused(visit(url))


async def test_a_ticket_expires(make_user) -> None:
    url = await login_ticket(make_user())
    later = time.time() + 31
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert refused(visit(url))
    with override_settings(REFLEX_DJANGO_AUTH={"TICKET_MAX_AGE": 120}):
        url = await login_ticket(make_user())
        with mock.patch("django.core.signing.time.time", return_value=later):
            assert visit(url).status_code == 302


async def test_a_ticket_belongs_to_the_browser_that_asked_for_it(make_user, login) -> None:
    user = make_user()
    mine = in_db_thread(_anonymous_session, cart="book")
    theirs = in_db_thread(_anonymous_session)
    # Minted for a tab with session `mine`: another browser's cookie, or none, fails.
    assert refused(visit(await login_ticket(user, cookie=mine), cookie=theirs))
    assert refused(visit(await login_ticket(user, cookie=mine)))
    # Minted for a tab without a cookie: a browser with one fails.
    assert refused(visit(await login_ticket(user), cookie=theirs))
    # The right browser: Django's login() keeps the anonymous session's data, new key.
    response = visit(await login_ticket(user, cookie=mine), cookie=mine)
    new_key = session_cookie(response).value
    assert new_key != mine and session_user_id(new_key) == str(user.pk)
    assert in_db_thread(lambda: SessionStore(new_key).get("cart")) == "book"
    # Signing in as someone else over a signed-in session starts a fresh session.
    other = make_user()
    signed_in = login(other)
    response = visit(await login_ticket(user, cookie=signed_in), cookie=signed_in)
    assert session_user_id(session_cookie(response).value) == str(user.pk)


def _anonymous_session(**data: Any) -> str:
    store = SessionStore()
    store.update(data)
    store.create()
    return store.session_key


async def test_an_attempt_from_another_browser_does_not_burn_the_ticket(make_user) -> None:
    user = make_user()
    mine, theirs = in_db_thread(_anonymous_session), in_db_thread(_anonymous_session)
    url = await login_ticket(user, cookie=mine)
    assert refused(visit(url, cookie=theirs))
    assert refused(visit(url))
    response = visit(url, cookie=mine)
    assert response.status_code == 302 and session_user_id(session_cookie(response).value) == str(user.pk)


async def test_a_ticket_of_a_browser_without_a_session_needs_the_apps_own_page(make_user) -> None:
    """Login CSRF: an attacker mints a ticket for their own account in a fresh browser
    and sends the link; the victim's fresh browser has no cookie either. Only a
    navigation by the app's own page (same origin) may redeem such a ticket."""
    user = make_user()
    url = await login_ticket(user)
    for fetch_site in ("none", "same-site", "cross-site", None):
        assert refused(visit(url, Sec_Fetch_Site=fetch_site)), fetch_site
    # No Sec-Fetch-* (plain HTTP to a LAN address): a Referer from elsewhere is refused.
    assert refused(visit(url, Sec_Fetch_Site=None, Referer="https://evil.example/x"))
    response = visit(url)  # same-origin, as the sign-in page's redirect
    assert response.status_code == 302 and session_user_id(session_cookie(response).value) == str(user.pk)


async def test_without_sec_fetch_headers_a_referer_of_this_site_will_do(make_user) -> None:
    """Browsers send no Sec-Fetch-* to plain-HTTP origins other than localhost; the
    sign-in page's navigation still carries its Referer."""
    user = make_user()
    url = await login_ticket(user)
    response = visit(url, Sec_Fetch_Site=None, Referer="http://testserver/login")
    assert response.status_code == 302 and session_user_id(session_cookie(response).value) == str(user.pk)


async def test_tampered_tickets_are_refused(make_user) -> None:
    url = await login_ticket(make_user())
    [ticket] = parse_qs(urlsplit(url).query)["ticket"]
    value, stamp, signature = ticket.rsplit(":", 2)
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    assert refused(visit(with_ticket(url, f"{value}:{stamp}:{flipped}")))
    payload = ticket_payload(url)
    other_salt = signing.dumps({**payload, "next": "/elsewhere"}, salt="another")
    assert refused(visit(with_ticket(url, other_salt)))
    assert refused(visit(with_ticket(url, "not-a-ticket")))
    assert refused(visit(urlsplit(url).path))
    # A valid signature is not enough: the nonce must match the named session's.
    wrong_nonce = signing.dumps({**payload, "n": "guess"}, salt=SALT)
    assert refused(visit(with_ticket(url, wrong_nonce)))
    wrong_op = signing.dumps({**payload, "op": "logout"}, salt=SALT)
    assert refused(visit(with_ticket(url, wrong_op)))
    # None of that used the ticket up.
    assert visit(url).status_code == 302


async def test_next_must_be_a_local_path(make_user) -> None:
    for unsafe in (
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
    ):
        response = visit(await login_ticket(make_user(), next_url=unsafe))
        assert response.status_code == 302 and response["Location"] == "/", unsafe
    # Even a ticket signed with our key (a future bug, a leaked key) cannot point away.
    url = await login_ticket(make_user(), next_url="/fine")
    forged = signing.dumps({**ticket_payload(url), "next": "//evil.example"}, salt=SALT)
    response = visit(with_ticket(url, forged))
    assert response.status_code == 302 and response["Location"] == "/"
    assert safe_local_path("/notes?page=2#top") == "/notes?page=2#top"
    assert safe_local_path("/a\nb") is None and safe_local_path(None) is None


async def test_cross_site_navigations_are_refused(make_user) -> None:
    url = await login_ticket(make_user())
    assert refused(visit(url, Sec_Fetch_Site="cross-site"))
    assert visit(url, Sec_Fetch_Site="same-origin").status_code == 302


async def test_only_get(make_user) -> None:
    url = await login_ticket(make_user())
    assert in_db_thread(Client().post, url).status_code == 405
    assert visit(url).status_code == 302


async def test_users_who_may_no_longer_sign_in_are_refused(make_user) -> None:
    user = make_user()
    url = await login_ticket(user)
    user.set_password("changed")
    await user.asave()
    assert refused(visit(url))
    user = make_user()
    url = await login_ticket(user)
    user.is_active = False
    await user.asave()
    assert refused(visit(url))


async def test_logout_ends_the_session_and_deletes_the_cookie(make_user, login) -> None:
    user = make_user()
    cookie = login(user)
    request = await event_request(cookie)
    assert request.user == user
    await alogout(request)  # what the logout handler does over the WebSocket
    assert not in_db_thread(SessionStore().exists, cookie)  # ended at once, server-side
    url = await aissue_ticket(request, "logout", "/login")
    response = visit(url, cookie=cookie)
    assert response.status_code == 302 and response["Location"] == "/login"
    deleted = session_cookie(response)
    assert deleted is not None and deleted.value == "" and deleted["max-age"] == 0
    assert refused(visit(url, cookie=cookie))  # once


async def test_logout_ticket_of_another_browser_is_refused(make_user, login) -> None:
    cookie = login(make_user())
    request = await event_request(cookie)
    url = await aissue_ticket(request, "logout", "/login")
    assert refused(visit(url, cookie=login(make_user())))


async def test_a_login_ticket_needs_an_authenticated_user(make_user) -> None:
    with pytest.raises(ValueError, match="needs the user aauthenticate"):
        await aissue_ticket(await event_request(), "login", "/", make_user())


@override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies")
async def test_signed_cookie_sessions_are_refused(make_user) -> None:
    with pytest.raises(ImproperlyConfigured, match="server-side session store"):
        await login_ticket(make_user())


@override_settings(SESSION_ENGINE="django.contrib.sessions.backends.cached_db")
async def test_cached_db_sessions(make_user) -> None:
    url = await login_ticket(make_user())
    assert visit(url).status_code == 302
    assert refused(visit(url))


async def test_the_record_lives_in_the_staging_session(make_user) -> None:
    user = make_user()
    url = await login_ticket(user)
    payload = ticket_payload(url)
    record = in_db_thread(lambda: SessionStore(payload["s"]).get(DATA_KEY))
    assert record["nonce"] == payload["n"] and record["op"] == "login"
    assert record["user"] == str(user.pk) and "password" not in str(record)
    # The staging session is not a signed-in session: its key alone gives nothing.
    assert (await event_request(payload["s"])).user.is_authenticated is False
    expiry = in_db_thread(lambda: SessionStore(payload["s"]).get_expiry_age())
    assert 0 < expiry <= 30
