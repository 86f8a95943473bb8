"""Server-side checks for Reflex event handlers, backed by the event's Django user.

`DjangoUserState` is for display; these are the checks that count.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, overload

from django.core.exceptions import PermissionDenied

from reflex_django.context import current_request, current_user

__all__ = [
    "LoginRequired",
    "ReflexDjangoAuthError",
    "auser_has_perm",
    "django_login_required",
    "group_required",
    "login_url",
    "permission_required",
    "require_login_user",
    "staff_required",
    "superuser_required",
    "user_passes_test",
]

# The type of a decorator that returns what it was given (the guards keep signatures).
F = TypeVar("F", bound=Callable[..., Any])


class ReflexDjangoAuthError(PermissionError):
    """An action needs a signed-in Django user and the event has none (the name and
    base class of reflex-django 0.2.3)."""


class LoginRequired(ReflexDjangoAuthError, PermissionDenied):
    """Raised by `require_login_user()` when the event has no signed-in user.

    Catch it as `LoginRequired`, `ReflexDjangoAuthError` (a `PermissionError`) or
    Django's `PermissionDenied`.
    """


def login_url() -> str:
    """`REFLEX_DJANGO_AUTH["LOGIN_URL"]`, else `REFLEX_DJANGO_LOGIN_URL`, else `/login`
    (the same value the canned login page is registered at)."""
    from reflex_django.auth.conf import auth_setting

    return str(auth_setting("LOGIN_URL"))


def require_login_user() -> Any:
    """The event's signed-in Django user; raises `LoginRequired` (a
    `ReflexDjangoAuthError`) for anonymous users and outside an event."""
    user = current_user()
    if not getattr(user, "is_authenticated", False):
        raise LoginRequired(
            "this action needs a signed-in user, and the Reflex event has none "
            "(no valid Django session cookie reached the event bridge)"
        )
    return user


async def auser_has_perm(user: Any, perm: str) -> bool:
    """`await user.ahas_perm(perm)`: False for anonymous and inactive users."""
    if user is None:
        return False
    return bool(await user.ahas_perm(perm))


@overload
def django_login_required[G: Callable[..., Any]](redirect_to: G) -> G: ...
@overload
def django_login_required(redirect_to: str | None = None) -> Callable[[F], F]: ...
def django_login_required(redirect_to: Any = None) -> Any:
    """Guard an event handler: anonymous users are redirected to the login page.

    Put it under `@rx.event`::

        @rx.event
        @django_login_required()
        async def delete_note(self, note_id: int): ...

    `redirect_to` defaults to `login_url()` with `?next=<the event's page>`. Works on
    sync and async handlers and on generators; also usable bare
    (`@django_login_required`).
    """
    if callable(redirect_to):
        return django_login_required()(redirect_to)

    def denied(_state: Any) -> Any:
        import reflex as rx

        return rx.redirect(redirect_to or _with_next(login_url()))

    def allowed(user: Any) -> bool:
        return bool(user.is_authenticated)

    return _guard(allowed, denied, login_first=False, sync=True)


def user_passes_test(
    test: Callable[[Any], Any],
    *,
    on_denied: Callable[[Any], Any] | None = None,
) -> Callable[[F], F]:
    """Guard an event handler with `test(user)` (the event's Django user; a plain
    function for attribute checks, an `async def` for anything that queries the
    database). The handler runs only when it is true. Otherwise: an anonymous user is
    sent to the login page (`?next=` the event's page); a signed-in one gets what
    `on_denied(state)` returns, by default an error toast (`permission_denied`). Put
    it under `@rx.event`::

        @rx.event
        @user_passes_test(lambda user: user.email.endswith("@example.com"))
        async def export(self): ...
    """

    return _guard(test, on_denied, login_first=True, sync=not inspect.iscoroutinefunction(test))


def permission_required(*perms: str, on_denied: Callable[[Any], Any] | None = None) -> Callable[[F], F]:
    """Guard an event handler: the user must have every one of `perms`
    (`"app_label.codename"`, checked with Django's `ahas_perms`: backends, groups,
    superusers). Refusals as for `user_passes_test`."""
    if not perms or not all(isinstance(p, str) and "." in p for p in perms):
        raise TypeError("permission_required() takes permissions as 'app_label.codename' strings")

    async def has_perms(user: Any) -> bool:
        return bool(user.is_active and await user.ahas_perms(perms))

    return _guard(has_perms, on_denied, login_first=True, sync=False)


def group_required(*groups: str, on_denied: Callable[[Any], Any] | None = None) -> Callable[[F], F]:
    """Guard an event handler: the user must belong to at least one of `groups`
    (names); superusers always pass. Refusals as for `user_passes_test`."""
    if not groups:
        raise TypeError("group_required() needs at least one group name")

    async def in_group(user: Any) -> bool:
        if not user.is_active:
            return False
        return bool(user.is_superuser or await user.groups.filter(name__in=groups).aexists())

    return _guard(in_group, on_denied, login_first=True, sync=False)


@overload
def staff_required[G: Callable[..., Any]](fn: G, *, on_denied: Callable[[Any], Any] | None = None) -> G: ...
@overload
def staff_required(fn: None = None, *, on_denied: Callable[[Any], Any] | None = None) -> Callable[[F], F]: ...
def staff_required(fn: Callable[..., Any] | None = None, *, on_denied: Callable[[Any], Any] | None = None) -> Any:
    """Guard an event handler: active staff users only (bare or with `on_denied`)."""
    guard = user_passes_test(lambda user: user.is_active and user.is_staff, on_denied=on_denied)
    return guard(fn) if fn is not None else guard


@overload
def superuser_required[G: Callable[..., Any]](fn: G, *, on_denied: Callable[[Any], Any] | None = None) -> G: ...
@overload
def superuser_required(fn: None = None, *, on_denied: Callable[[Any], Any] | None = None) -> Callable[[F], F]: ...
def superuser_required(fn: Callable[..., Any] | None = None, *, on_denied: Callable[[Any], Any] | None = None) -> Any:
    """Guard an event handler: active superusers only (bare or with `on_denied`)."""
    guard = user_passes_test(lambda user: user.is_active and user.is_superuser, on_denied=on_denied)
    return guard(fn) if fn is not None else guard


def _refused(_state: Any) -> Any:
    import reflex as rx

    from reflex_django.auth.conf import message

    return rx.toast.error(message("permission_denied"))


def _is_page(fn: Callable[..., Any]) -> bool:
    """A page function takes nothing; an event handler takes the state."""
    try:
        return not inspect.signature(fn).parameters and not inspect.iscoroutinefunction(fn)
    except (TypeError, ValueError):
        return False


def _guard(
    allowed: Callable[[Any], Any], denied: Callable[[Any], Any] | None, *, login_first: bool, sync: bool
) -> Callable[[F], F]:
    """The decorator: `fn` runs when `allowed(user)` (awaited when it returns an
    awaitable) is true; otherwise the event answers `denied(state)` (default: an error
    toast for a handler, the `permission_denied` text for a page). With `login_first`,
    anonymous users go to the login page without `allowed` being asked. Works on
    handlers of every kind and on page functions (see `reflex_django.auth.page_guard`).

    `sync`: `allowed` needs no await (no database), so a sync handler stays sync —
    Reflex's `setvar` calls setters directly and cannot await them."""

    def refusal(passed: bool, state: Any, page: bool) -> Any:
        if passed:
            return None
        if denied is not None:
            return denied(state)
        return False if page else _refused(state)

    def anonymous(user: Any) -> Any:
        import reflex as rx

        if login_first and not user.is_authenticated:
            # Sign in first (the test is not asked about anonymous users).
            return rx.redirect(_with_next(login_url()))
        return None

    async def verdict(state: Any, page: bool = False) -> Any:
        """None to go on, or what to answer instead (False: the page's refusal)."""
        user = current_user()
        if (redirect := anonymous(user)) is not None:
            return redirect
        passed = allowed(user)
        if inspect.isawaitable(passed):
            passed = await passed
        return refusal(bool(passed), state, page)

    def sync_verdict(state: Any) -> Any:
        user = current_user()
        if (redirect := anonymous(user)) is not None:
            return redirect
        passed = allowed(user)
        if inspect.isawaitable(passed):
            # A test that returns a coroutine (a lambda around `ahas_perm`) cannot be
            # awaited on a sync handler, and a coroutine object is always "true".
            if inspect.iscoroutine(passed):
                passed.close()
            raise TypeError(
                "this guard's test returned an awaitable on a sync event handler; "
                "hint: write the test as `async def`, or make the handler async"
            )
        return refusal(bool(passed), state, False)

    def decorate(fn: F) -> F:
        if _is_page(fn):
            from reflex_django.auth.page_guard import guard_page

            return guard_page(fn, functools.partial(verdict, page=True))  # type: ignore[return-value]
        if inspect.isasyncgenfunction(fn):

            @functools.wraps(fn)
            async def agen(*args: Any, **kwargs: Any) -> Any:
                refused = await verdict(args[0] if args else None)
                if refused is not None:
                    yield refused
                    return
                async for item in fn(*args, **kwargs):
                    yield item

            return agen  # type: ignore[return-value]
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def coro(*args: Any, **kwargs: Any) -> Any:
                refused = await verdict(args[0] if args else None)
                return await fn(*args, **kwargs) if refused is None else refused

            return coro  # type: ignore[return-value]
        if inspect.isgeneratorfunction(fn):
            if sync:

                @functools.wraps(fn)
                def gen(*args: Any, **kwargs: Any) -> Any:
                    refused = sync_verdict(args[0] if args else None)
                    if refused is not None:
                        yield refused
                        return
                    return (yield from fn(*args, **kwargs))

                return gen  # type: ignore[return-value]

            @functools.wraps(fn)
            async def agen_of_gen(*args: Any, **kwargs: Any) -> Any:
                refused = await verdict(args[0] if args else None)
                if refused is not None:
                    yield refused
                    return
                for item in fn(*args, **kwargs):
                    yield item

            return agen_of_gen  # type: ignore[return-value]
        if sync:

            @functools.wraps(fn)
            def plain(*args: Any, **kwargs: Any) -> Any:
                refused = sync_verdict(args[0] if args else None)
                return fn(*args, **kwargs) if refused is None else refused

            return plain  # type: ignore[return-value]

        @functools.wraps(fn)
        async def coro_of_plain(*args: Any, **kwargs: Any) -> Any:
            refused = await verdict(args[0] if args else None)
            return fn(*args, **kwargs) if refused is None else refused

        return coro_of_plain  # type: ignore[return-value]

    return decorate


def _with_next(url: str) -> str:
    """`url?next=<the event's page>`, so signing in leads back to it."""
    request = current_request()
    here = request.get_full_path() if request is not None and request.path else ""
    if not here or here.split("?")[0] == url:
        return url
    from urllib.parse import urlencode

    return f"{url}{'&' if '?' in url else '?'}{urlencode({'next': here})}"
