"""Sign-in throttling (reflex_django.auth.throttle) through `session_auth_mixin` on
Reflex's real event path: per username, per client address, the same answer for
unknown usernames, back-off, and password checks off the threads events share."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from django.core.cache import cache
from django.test import override_settings

from rdj_testproject.backends import ThreadRecordingBackend
from reflex_django.auth.conf import DEFAULT_MESSAGES
from reflex_django.auth_state import DjangoUserState
from reflex_django.mixins import SessionAuthConfig, session_auth_mixin
from reflex_harness import Reflex, Tab, bridged_app, running

ThrottledLogin = session_auth_mixin(
    SessionAuthConfig(state_class_name="ThrottledLogin"), base=DjangoUserState, state_module="rdj_testproject.generated"
)


@pytest.fixture
async def reflex() -> AsyncIterator[Reflex]:
    cache.clear()
    async with running(bridged_app()) as r:
        yield r
    cache.clear()


async def attempt(reflex: Reflex, tab: Tab, username: str, password: str) -> str:
    """Signs in on `tab`; the error shown, or "" when the sign-in went through."""
    await tab.send(ThrottledLogin.submit_login_form, form_data={"username": username, "password": password})
    await reflex.settle()
    return (await reflex.state(tab, ThrottledLogin)).login_error


def throttled(error: str) -> bool:
    return error.startswith("Too many failed sign-ins. Try again in ")


@override_settings(REFLEX_DJANGO_AUTH={"SIGNIN_WINDOW": 1, "SIGNIN_MAX_LOCKOUT": 2})
async def test_the_sixth_try_is_refused_unchecked_then_the_window_ends(reflex: Reflex, make_user) -> None:
    user = make_user()
    tab = await reflex.tab()
    for _ in range(5):
        assert await attempt(reflex, tab, user.username, "wrong") == DEFAULT_MESSAGES["invalid_credentials"]
    # The sixth is refused without a look at the password, even the right one.
    assert throttled(await attempt(reflex, tab, user.username, "pw"))
    await asyncio.sleep(2.5)  # past the longest lock-out of these settings
    assert await attempt(reflex, tab, user.username, "pw") == ""


async def test_an_unknown_username_gets_the_same_answers(reflex: Reflex, make_user) -> None:
    known, tab = make_user(), await reflex.tab()
    answers = {}
    for name in (known.username, "nobody-by-this-name"):
        answers[name] = [await attempt(reflex, tab, name, "wrong") for _ in range(6)]
    assert answers[known.username] == answers["nobody-by-this-name"]
    assert throttled(answers[known.username][-1]) and not throttled(answers[known.username][-2])


@override_settings(REFLEX_DJANGO_AUTH={"SIGNIN_ATTEMPTS_PER_ADDRESS": 3})
async def test_one_address_trying_many_usernames_is_limited(reflex: Reflex, make_user) -> None:
    users = [make_user() for _ in range(4)]
    guesser = await reflex.tab(ip="203.0.113.7")
    for user in users[:3]:
        assert not throttled(await attempt(reflex, guesser, user.username, "wrong"))
    assert throttled(await attempt(reflex, guesser, users[3].username, "pw"))
    # Another address is not held up, and the right password works there.
    other = await reflex.tab(ip="198.51.100.2")
    assert await attempt(reflex, other, users[3].username, "pw") == ""


async def test_a_right_password_clears_the_usernames_count(reflex: Reflex, make_user) -> None:
    user, tab = make_user(), await reflex.tab()
    for _ in range(4):
        await attempt(reflex, tab, user.username, "wrong")
    assert await attempt(reflex, tab, user.username, "pw") == ""
    fresh = await reflex.tab()
    for _ in range(5):
        assert not throttled(await attempt(reflex, fresh, user.username, "wrong"))


@override_settings(AUTHENTICATION_BACKENDS=["rdj_testproject.backends.ThreadRecordingBackend"])
async def test_passwords_are_checked_off_the_threads_events_share(reflex: Reflex, make_user) -> None:
    ThreadRecordingBackend.threads.clear()
    user, tab = make_user(), await reflex.tab()
    started = time.monotonic()
    assert await attempt(reflex, tab, user.username, "pw") == ""
    print(f"a sign-in event took {time.monotonic() - started:.3f}s")
    assert ThreadRecordingBackend.threads and all(
        name.startswith("reflex-django-signin") for name in ThreadRecordingBackend.threads
    ), ThreadRecordingBackend.threads


@override_settings(REFLEX_DJANGO_AUTH={"SIGNUP_ATTEMPTS_PER_CLIENT": 2})
async def test_sign_ups_are_limited_per_client(reflex: Reflex) -> None:
    from reflex_django.auth.state import DjangoAuthState

    async def sign_up(tab: Tab, name: str) -> str:
        form = {"username": name, "email": "", "password1": "Long enough 1", "password2": "Long enough 1"}
        await tab.send(DjangoAuthState.submit_register_form, form_data=form)
        await reflex.settle()
        return (await reflex.state(tab, DjangoAuthState)).register_error

    busy = await reflex.tab(ip="203.0.113.50")
    assert await sign_up(busy, "first_of_many") == ""
    assert await sign_up(busy, "second_of_many") == ""
    assert await sign_up(busy, "third_of_many") == DEFAULT_MESSAGES["signup_throttled"]
    assert await sign_up(await reflex.tab(ip="198.51.100.50"), "someone_else") == ""


@override_settings(
    REFLEX_DJANGO_AUTH={"SIGNIN_ATTEMPTS": 3},
    AUTHENTICATION_BACKENDS=["rdj_testproject.backends.ThreadRecordingBackend"],
)
async def test_attempts_sent_together_cannot_slip_past_the_limit(reflex: Reflex, make_user) -> None:
    ThreadRecordingBackend.threads.clear()
    user = make_user()
    tabs = [await reflex.tab(ip=f"198.51.100.{n}") for n in range(10)]
    errors = await asyncio.gather(*(attempt(reflex, tab, user.username, "wrong") for tab in tabs))
    assert len(ThreadRecordingBackend.threads) <= 3, ThreadRecordingBackend.threads  # passwords checked
    assert sum(throttled(e) for e in errors) >= 7, errors
