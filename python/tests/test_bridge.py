"""The event bridge, driven through Reflex's real event path (see reflex_harness)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import reflex as rx
from django.conf import settings
from django.test import override_settings
from django.utils import timezone, translation

from dbthread import in_db_thread
from reflex_django import DjangoI18nState, DjangoUserState
from reflex_django.context import (
    current_language,
    current_request,
    current_session,
    current_user,
)
from reflex_harness import Reflex, bridged_app, running

SESSION = settings.SESSION_COOKIE_NAME
seen: list[dict[str, Any]] = []
barrier: asyncio.Barrier | None = None


def _snapshot(label: str) -> dict[str, Any]:
    request = current_request()
    user = current_user()
    return {
        "label": label,
        "user": user.get_username() if user.is_authenticated else None,
        "language": current_language(),
        "active_language": translation.get_language(),
        "has_session": current_session() is not None,
        "request": request,
        "context": asyncio.current_task().get_context(),
    }


class BridgeProbeState(rx.State):
    note: str = ""

    @rx.event
    async def record(self, label: str = "") -> None:
        seen.append(_snapshot(label))

    @rx.event
    def record_sync(self, label: str = "") -> None:
        seen.append(_snapshot(label))

    @rx.event
    async def rendezvous(self, label: str) -> None:
        before = _snapshot(label)
        assert barrier is not None
        await barrier.wait()  # both events are now in flight at the same time
        await asyncio.sleep(0.01)
        after = _snapshot(label)
        seen.append({**after, "before": before["user"]})

    @rx.event
    async def boom(self, label: str = "") -> None:
        seen.append(_snapshot(label))
        raise RuntimeError("handler failed on purpose")


class ProbeUserState(DjangoUserState):
    """A subclass, as users write it."""

    @rx.event
    async def check(self) -> None:
        await self.refresh_django_user_fields()
        seen.append({"username": self.username, "groups": list(self.group_names)})


@pytest.fixture
async def reflex() -> AsyncIterator[Reflex]:
    seen.clear()
    async with running(bridged_app()) as r:
        yield r


async def test_router_data_becomes_a_django_request(reflex: Reflex, make_user, login) -> None:
    user = make_user()
    tab = await reflex.tab(
        cookies={SESSION: login(user), "theme": "dark"},
        ip="203.0.113.7",
        user_agent="pytest-browser",
        x_forwarded_proto="https",
        host="app.example.com",
    )
    await tab.send(BridgeProbeState.record, "/notes/42?tag=a&tag=b&page=2", label="x")
    await reflex.settle()
    [entry] = seen
    request = entry["request"]
    assert entry["user"] == user.username
    assert request.user.pk == user.pk
    assert (await request.auser()).pk == user.pk
    assert request.COOKIES["theme"] == "dark"
    assert request.META["HTTP_USER_AGENT"] == "pytest-browser"
    assert request.META["HTTP_X_FORWARDED_PROTO"] == "https"
    assert request.META["REMOTE_ADDR"] == "203.0.113.7"
    assert "HTTP_ASGI_SCOPE_CLIENT" not in request.META  # Reflex's own, not a header
    assert request.path == request.path_info == request.META["PATH_INFO"] == "/notes/42"
    assert request.GET.getlist("tag") == ["a", "b"] and request.GET["page"] == "2"
    assert request.META["QUERY_STRING"] == "tag=a&tag=b&page=2"
    assert request.method == "GET"
    assert (request.META["SERVER_NAME"], request.META["SERVER_PORT"]) == ("app.example.com", "443")
    assert request.get_host() == "app.example.com"


async def test_anonymous_without_cookie(reflex: Reflex) -> None:
    tab = await reflex.tab()
    await tab.send(BridgeProbeState.record)
    await reflex.settle()
    assert seen[0]["user"] is None and seen[0]["has_session"]


async def test_sync_handler_sees_the_user(reflex: Reflex, make_user, login) -> None:
    user = make_user()
    tab = await reflex.tab(cookies={SESSION: login(user)})
    await tab.send(BridgeProbeState.record_sync)
    await reflex.settle()
    assert seen[0]["user"] == user.username


def _expire(session_key: str) -> None:
    from django.contrib.sessions.models import Session

    in_db_thread(
        Session.objects.filter(session_key=session_key).update,
        expire_date=timezone.now() - timedelta(seconds=1),
    )


def _logout(session_key: str) -> None:
    from django.contrib.sessions.backends.db import SessionStore

    in_db_thread(SessionStore(session_key).delete)


def _change_password(user: Any) -> None:
    user.set_password("new password")
    in_db_thread(user.save)


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda key, user: "x" * 32, id="forged"),
        pytest.param(lambda key, user: (_expire(key), key)[1], id="expired"),
        pytest.param(lambda key, user: (_logout(key), key)[1], id="logged-out"),
        pytest.param(lambda key, user: (_change_password(user), key)[1], id="password-changed"),
    ],
)
async def test_bad_sessions_are_anonymous(reflex: Reflex, make_user, login, spoil) -> None:
    user = make_user()
    key = login(user)
    tab = await reflex.tab(cookies={SESSION: spoil(key, user)})
    await tab.send(BridgeProbeState.record)
    await reflex.settle()
    assert seen[0]["user"] is None


def _session_with_other_users_hash(victim: Any, attacker: Any) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(victim.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = attacker.get_session_auth_hash()
    store.save()
    return store.session_key


async def test_session_with_another_users_hash_is_anonymous(reflex: Reflex, make_user) -> None:
    key = in_db_thread(_session_with_other_users_hash, make_user(), make_user())
    tab = await reflex.tab(cookies={SESSION: key})
    await tab.send(BridgeProbeState.record)
    await reflex.settle()
    assert seen[0]["user"] is None


async def test_locale_from_accept_language(reflex: Reflex) -> None:
    tab = await reflex.tab(accept_language="fr-CA,fr;q=0.9,en;q=0.5")
    await tab.send(BridgeProbeState.record)
    await reflex.settle()
    assert seen[0]["language"] == "fr"
    assert seen[0]["active_language"] == "fr"  # activated for the handler
    assert translation.get_language() == "en"  # and not for anyone else


async def test_language_cookie_beats_accept_language(reflex: Reflex) -> None:
    tab = await reflex.tab(cookies={settings.LANGUAGE_COOKIE_NAME: "ar"}, accept_language="fr")
    await tab.send(DjangoI18nState.sync_from_django)
    await tab.send(BridgeProbeState.record)
    await reflex.settle()
    assert seen[0]["language"] == "ar"
    state = await reflex.state(tab, DjangoI18nState)
    assert (state.django_language_code, state.django_language_bidi) == ("ar", True)


async def test_locale_negotiation_can_be_switched_off(reflex: Reflex) -> None:
    tab = await reflex.tab(accept_language="fr")
    with override_settings(REFLEX_DJANGO_I18N_EVENT_BRIDGE=False):
        await tab.send(BridgeProbeState.record)
        await reflex.settle()
    assert seen[0]["language"] == "en"
    assert not hasattr(seen[0]["request"], "LANGUAGE_CODE")


async def test_concurrent_events_of_two_users(reflex: Reflex, make_user, login) -> None:
    global barrier
    barrier = asyncio.Barrier(2)
    alice, bob = make_user(), make_user()
    tab_a = await reflex.tab(cookies={SESSION: login(alice)}, accept_language="fr")
    tab_b = await reflex.tab(cookies={SESSION: login(bob)}, accept_language="ar")
    await asyncio.gather(
        tab_a.send(BridgeProbeState.rendezvous, label="a"),
        tab_b.send(BridgeProbeState.rendezvous, label="b"),
    )
    await reflex.settle()
    by_label = {entry["label"]: entry for entry in seen}
    assert by_label["a"]["before"] == by_label["a"]["user"] == alice.username
    assert by_label["b"]["before"] == by_label["b"]["user"] == bob.username
    assert (by_label["a"]["language"], by_label["b"]["language"]) == ("fr", "ar")
    assert (by_label["a"]["active_language"], by_label["b"]["active_language"]) == ("fr", "ar")


async def test_no_leak_after_a_handler_raised(reflex: Reflex, make_user, login, caplog) -> None:
    user = make_user()
    signed_in = await reflex.tab(cookies={SESSION: login(user)})
    anonymous = await reflex.tab()
    with caplog.at_level(logging.ERROR):
        await signed_in.send(BridgeProbeState.boom, label="boom")
        await reflex.settle()
    await anonymous.send(BridgeProbeState.record, label="next")
    await reflex.settle()
    boom, after = seen
    assert boom["user"] == user.username
    assert after["user"] is None
    # The failed event's own context was cleared once its task ended.
    assert boom["context"].run(current_request) is None
    assert after["context"].run(current_request) is None


async def test_failure_is_logged_and_anonymous(reflex: Reflex, make_user, login, caplog) -> None:
    tab = await reflex.tab(cookies={SESSION: login(make_user())})
    with (
        override_settings(SESSION_ENGINE="no.such.session.engine"),
        caplog.at_level(logging.ERROR, logger="reflex_django"),
    ):
        await tab.send(BridgeProbeState.record)
        await reflex.settle()
    assert seen[0]["user"] is None
    assert "could not load the Django session or user" in caplog.text
    assert "ModuleNotFoundError: No module named 'no'" in caplog.messages[0]


async def test_user_state_snapshot(reflex: Reflex, make_user, login) -> None:
    user = make_user(groups=("editors", "authors"), email="u@example.com", first_name="Ada")
    tab = await reflex.tab(cookies={SESSION: login(user)})
    await tab.send(DjangoUserState.sync_from_django)
    await tab.send(ProbeUserState.check)
    await reflex.settle()
    assert seen == [{"username": user.username, "groups": []}]  # groups are opt-in
    with override_settings(REFLEX_DJANGO_USER_SNAPSHOT_INCLUDE_GROUPS=True):
        await tab.send(ProbeUserState.check)
        await reflex.settle()
    assert seen[-1] == {"username": user.username, "groups": ["authors", "editors"]}
    state = await reflex.state(tab, DjangoUserState)
    assert (state.user_id, state.email, state.first_name) == (user.pk, "u@example.com", "Ada")
    assert state.is_authenticated and not state.is_staff and not state.is_superuser
