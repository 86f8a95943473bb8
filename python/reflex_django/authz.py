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
    "login_url",
    "require_login_user",
]

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
def django_login_required(redirect_to: F) -> F: ...
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

    def decorate(fn: F) -> F:
        def denied() -> Any:
            import reflex as rx

            if redirect_to:
                return rx.redirect(redirect_to)
            return rx.redirect(_with_next(login_url()))

        def allowed() -> bool:
            return bool(current_user().is_authenticated)

        if inspect.isasyncgenfunction(fn):

            @functools.wraps(fn)
            async def agen(*args: Any, **kwargs: Any) -> Any:
                if not allowed():
                    yield denied()
                    return
                async for item in fn(*args, **kwargs):
                    yield item

            return agen  # type: ignore[return-value]
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def coro(*args: Any, **kwargs: Any) -> Any:
                return await fn(*args, **kwargs) if allowed() else denied()

            return coro  # type: ignore[return-value]
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def gen(*args: Any, **kwargs: Any) -> Any:
                if not allowed():
                    yield denied()
                    return
                return (yield from fn(*args, **kwargs))

            return gen  # type: ignore[return-value]

        @functools.wraps(fn)
        def plain(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs) if allowed() else denied()

        return plain  # type: ignore[return-value]

    return decorate


def _with_next(url: str) -> str:
    """`url?next=<the event's page>`, so signing in leads back to it."""
    request = current_request()
    here = request.get_full_path() if request is not None and request.path else ""
    if not here or here.split("?")[0] == url:
        return url
    from urllib.parse import urlencode

    return f"{url}{'&' if '?' in url else '?'}{urlencode({'next': here})}"
