"""Server-side checks: require_login_user, django_login_required, auser_has_perm."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import reflex as rx
from dbthread import in_db_thread
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.test import override_settings
from reflex_django.authz import (
    LoginRequired,
    auser_has_perm,
    django_login_required,
    login_url,
    require_login_user,
)
from reflex_django.context import begin_event_request, end_event_request
from reflex_harness import Reflex, bridged_app, running

ran: list[Any] = []


class GuardedState(rx.State):
    @rx.event
    @django_login_required()
    async def open_note(self, note_id: int) -> None:
        ran.append(note_id)


def _bound(user: Any) -> Iterator[None]:
    request = HttpRequest()
    request.user = user
    token = begin_event_request(request)
    try:
        yield
    finally:
        end_event_request(token)


@pytest.fixture
def as_user(make_user) -> Iterator[Any]:
    user = make_user()
    yield from (user for _ in _bound(user))


@pytest.fixture
def as_anonymous() -> Iterator[None]:
    yield from _bound(AnonymousUser())


def _redirect_path(spec: Any) -> str:
    assert spec.handler.fn.__qualname__ == "_redirect"
    return dict((str(k), v) for k, v in spec.args)["path"]._var_value


def test_require_login_user_without_a_request() -> None:
    with pytest.raises(LoginRequired, match="needs a signed-in user") as raised:
        require_login_user()
    assert isinstance(raised.value, PermissionDenied)


def test_require_login_user(as_user) -> None:
    assert require_login_user() == as_user


@pytest.mark.usefixtures("as_anonymous")
def test_require_login_user_anonymous() -> None:
    with pytest.raises(LoginRequired):
        require_login_user()


def test_login_url_settings() -> None:
    assert login_url() == "/login"
    with override_settings(REFLEX_DJANGO_LOGIN_URL="/legacy"):
        assert login_url() == "/legacy"
        with override_settings(REFLEX_DJANGO_AUTH={"LOGIN_URL": "/signin"}):
            assert login_url() == "/signin"
        with override_settings(REFLEX_DJANGO_AUTH={"SIGNUP_ENABLED": False}):
            assert login_url() == "/legacy"


def _handlers() -> dict[str, Any]:
    def plain(self: Any, x: int) -> str:
        return f"plain {x}"

    async def coro(self: Any, x: int) -> str:
        return f"coro {x}"

    def gen(self: Any, x: int) -> Any:
        yield f"gen {x}"
        return "done"

    async def agen(self: Any, x: int) -> Any:
        yield f"agen {x}"

    return {"plain": plain, "coro": coro, "gen": gen, "agen": agen}


async def _call(fn: Any) -> list[Any]:
    result = fn(None, 1)
    if hasattr(result, "__aiter__"):
        return [item async for item in result]
    if hasattr(result, "__next__"):
        return list(result)
    if hasattr(result, "__await__"):
        return [await result]
    return [result]


@pytest.mark.parametrize("kind", ["plain", "coro", "gen", "agen"])
async def test_login_required_lets_users_through(as_user, kind: str) -> None:
    guarded = django_login_required()(_handlers()[kind])
    assert guarded.__name__ == kind
    assert await _call(guarded) == [f"{kind} 1"]


@pytest.mark.parametrize("kind", ["plain", "coro", "gen", "agen"])
async def test_login_required_redirects_anonymous(as_anonymous, kind: str) -> None:
    [spec] = await _call(django_login_required()(_handlers()[kind]))
    assert _redirect_path(spec) == "/login"
    [spec] = await _call(django_login_required("/elsewhere")(_handlers()[kind]))
    assert _redirect_path(spec) == "/elsewhere"
    with override_settings(REFLEX_DJANGO_AUTH={"LOGIN_URL": "/signin"}):
        [spec] = await _call(django_login_required(_handlers()[kind]))  # bare form
    assert _redirect_path(spec) == "/signin"


@pytest.fixture
async def reflex() -> AsyncIterator[Reflex]:
    ran.clear()
    async with running(bridged_app()) as r:
        yield r


async def test_guarded_handler_through_real_events(reflex: Reflex, make_user, login) -> None:
    anonymous = await reflex.tab()
    signed_in = await reflex.tab(cookies={settings.SESSION_COOKIE_NAME: login(make_user())})
    await anonymous.send(GuardedState.open_note, note_id="7")
    await signed_in.send(GuardedState.open_note, note_id="8")
    await reflex.settle()
    assert ran == [8]  # the anonymous call never ran; the payload was converted to int


async def test_auser_has_perm(make_user) -> None:
    from django.contrib.auth.models import Permission

    boss = make_user(is_superuser=True)
    editor = make_user()
    reader = make_user()
    retired = make_user(is_active=False)
    change = Permission.objects.filter(codename="change_group")
    for user in (editor, retired):
        await user.user_permissions.aadd(await change.aget())
    assert await auser_has_perm(boss, "auth.change_group")
    assert await auser_has_perm(editor, "auth.change_group")
    assert not await auser_has_perm(reader, "auth.change_group")
    assert not await auser_has_perm(retired, "auth.change_group")
    assert not await auser_has_perm(AnonymousUser(), "auth.change_group")
    assert not await auser_has_perm(None, "auth.change_group")
    assert in_db_thread(editor.has_perm, "auth.change_group")  # same answer as sync
