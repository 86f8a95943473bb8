"""Server-side checks: require_login_user, django_login_required, auser_has_perm, and
the permission, group, staff, superuser and custom guards of event handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import reflex as rx
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.test import override_settings

from dbthread import in_db_thread
from reflex_django.authz import (
    LoginRequired,
    auser_has_perm,
    django_login_required,
    group_required,
    login_url,
    permission_required,
    require_login_user,
    staff_required,
    superuser_required,
    user_passes_test,
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
    return {str(k): v for k, v in spec.args}["path"]._var_value


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


# --- permission, group, staff, superuser and custom guards ----------------------------


class RoleState(rx.State):
    @rx.event
    @permission_required("auth.change_group", "auth.view_group")
    async def purge(self) -> None:
        ran.append("purge")

    @rx.event
    @group_required("editors", "chiefs")
    def edit(self) -> None:
        ran.append("edit")

    @rx.event
    @staff_required
    async def staff_page(self) -> Any:
        ran.append("staff")
        yield

    @rx.event
    @superuser_required(on_denied=lambda state: rx.redirect("/forbidden"))
    async def root_only(self) -> None:
        ran.append("root")

    @rx.event
    @user_passes_test(lambda user: user.email.endswith("@ada.example"))
    async def ada_only(self) -> None:
        ran.append("ada")


ROLE_EVENTS = {
    "purge": RoleState.purge,
    "edit": RoleState.edit,
    "staff": RoleState.staff_page,
    "root": RoleState.root_only,
    "ada": RoleState.ada_only,
}


def _grant(user: Any, *codenames: str) -> None:
    from django.contrib.auth.models import Permission

    def grant() -> None:
        for codename in codenames:
            user.user_permissions.add(Permission.objects.get(codename=codename))

    in_db_thread(grant)


def _join(user: Any, group: str) -> None:
    from django.contrib.auth.models import Group

    in_db_thread(lambda: user.groups.add(Group.objects.get_or_create(name=group)[0]))


async def _runs(reflex: Reflex, login: Any, user: Any | None, name: str) -> tuple[bool, list[Any]]:
    """Sends the guarded event as `user` (None: anonymous); whether the handler ran,
    and what the browser was told instead."""
    cookies = {settings.SESSION_COOKIE_NAME: login(user)} if user is not None else None
    tab = await reflex.tab(cookies=cookies)
    ran.clear()
    await tab.send(ROLE_EVENTS[name])
    await reflex.settle()
    told = [(e.name, e.payload) for e in tab.frontend_events()]
    return ran == [name], told


async def test_each_guard_runs_the_handler_for_allowed_users_only(reflex: Reflex, make_user, login) -> None:
    from django.contrib.auth.models import Group

    plain = make_user()
    both_perms, one_perm = make_user(), make_user()
    _grant(both_perms, "change_group", "view_group")
    _grant(one_perm, "change_group")
    chief = make_user()
    _join(chief, "chiefs")
    in_db_thread(lambda: Group.objects.get_or_create(name="readers"))
    reader = make_user()
    _join(reader, "readers")
    staff, boss = make_user(is_staff=True), make_user(is_superuser=True)
    ada = make_user(email="lovelace@ada.example")

    allowed = {
        "purge": [both_perms, boss],
        "edit": [chief, boss],
        "staff": [staff],
        "root": [boss],
        "ada": [ada],
    }
    refused = {
        "purge": [plain, one_perm],
        "edit": [plain, reader],
        "staff": [plain, boss],
        "root": [plain, staff],
        "ada": [plain],
    }
    for name in ROLE_EVENTS:
        for user in allowed[name]:
            ran_it, _ = await _runs(reflex, login, user, name)
            assert ran_it, (name, user.username)
        for user in refused[name]:
            ran_it, told = await _runs(reflex, login, user, name)
            assert not ran_it, (name, user.username)
            if name == "root":  # on_denied decides
                assert ("_redirect", {"path": "/forbidden", "external": False, "popup": False, "replace": False}) in [
                    (n, {k: getattr(v, "_var_value", v) for k, v in p.items()}) for n, p in told
                ], told
            else:
                assert any("You do not have permission to do that." in str(p) for _, p in told), told
        # Anonymous users are sent to sign in, and come back to the page after.
        ran_it, told = await _runs(reflex, login, None, name)
        assert not ran_it
        assert any(n == "_redirect" and "/login" in str(p) for n, p in told), told


@pytest.mark.usefixtures("as_user")
def test_a_test_returning_a_coroutine_on_a_sync_handler_is_an_error() -> None:
    async def check(user: Any) -> bool:
        return True

    def returns_a_coroutine(user: Any) -> Any:  # not itself an `async def`
        return check(user)

    guarded = user_passes_test(returns_a_coroutine)(lambda self: "ran")
    with pytest.raises(TypeError, match="write the test as `async def`"):
        guarded(None)


def test_guards_refuse_malformed_arguments() -> None:
    with pytest.raises(TypeError, match=r"app_label\.codename"):
        permission_required("delete")
    with pytest.raises(TypeError, match="at least one group"):
        group_required()


class SecretState(rx.State):
    secrets: list[str] = []

    @rx.event
    @permission_required("auth.delete_group")
    async def load_secrets(self) -> None:
        self.secrets = ["launch codes"]


@permission_required("auth.delete_group")
def secret_page() -> rx.Component:
    return rx.text(SecretState.secrets.to_string(), id="secrets")


async def test_a_guarded_page_is_decided_on_the_server_and_its_data_never_sent(
    reflex: Reflex, make_user, login
) -> None:
    from reflex_django.auth.page_guard import PageGuardState

    assert secret_page.__name__ == "secret_page"
    rendered = str(secret_page())  # a component: spinner, refusal, or the page
    assert "page-guard" in rendered and "permission-denied" in rendered
    guard_id = f"{__name__}.secret_page"
    keeper, visitor = make_user(), make_user()
    _grant(keeper, "delete_group")

    async def visit(user: Any | None) -> tuple[Any, Any, list[Any]]:
        cookies = {settings.SESSION_COOKIE_NAME: login(user)} if user is not None else None
        tab = await reflex.tab(cookies=cookies)
        await tab.send(PageGuardState.check_page, guard_id=guard_id)
        await tab.send(SecretState.load_secrets)  # what the page's on_load would run
        await reflex.settle()
        return (
            await reflex.state(tab, PageGuardState),
            await reflex.state(tab, SecretState),
            [(e.name, str(e.payload)) for e in tab.frontend_events()],
        )

    guard, data, _ = await visit(keeper)
    assert (guard.granted, guard.refused, data.secrets) == ([guard_id], [], ["launch codes"])
    guard, data, _ = await visit(visitor)
    assert (guard.granted, guard.refused, data.secrets) == ([], [guard_id], [])
    guard, data, told = await visit(None)
    assert (guard.granted, data.secrets) == ([], [])
    assert any(name == "_redirect" and "/login" in payload for name, payload in told), told
