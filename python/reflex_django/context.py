"""The Django request of the Reflex event being processed.

`DjangoEventBridge` binds a synthetic `HttpRequest` to a context variable for the
duration of each event; these helpers read it. Outside an event (or without the
bridge) there is no request: `current_request()` is None and `current_user()` is
`AnonymousUser`.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.contrib.sessions.backends.base import SessionBase
    from django.http import HttpRequest

__all__ = [
    "begin_event_request",
    "current_language",
    "current_request",
    "current_session",
    "current_user",
    "end_event_request",
]

_request: ContextVar[HttpRequest | None] = ContextVar("reflex_django_request", default=None)


def current_request() -> HttpRequest | None:
    """The request bound to the current event, or None outside one."""
    return _request.get()


def current_user() -> AbstractBaseUser | AnonymousUser:
    """The event's Django user (resolved and verified like Django's auth middleware
    does), or `AnonymousUser`. Use it for every server-side check."""
    user = getattr(_request.get(), "user", None)
    if user is not None:
        return user
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


def current_session() -> SessionBase | None:
    """The event's Django session (a `SessionStore`), or None.

    Nothing saves it for you (there is no HTTP response): after changing it, call
    `await current_session().asave()`.
    """
    return getattr(_request.get(), "session", None)


def current_language() -> str:
    """The language negotiated for the event, else Django's active language."""
    language = getattr(_request.get(), "LANGUAGE_CODE", None)
    if language:
        return str(language)
    from django.conf import settings
    from django.utils import translation

    return str(translation.get_language() or settings.LANGUAGE_CODE)


def begin_event_request(request: HttpRequest) -> Token[HttpRequest | None]:
    """Bind `request` to the current context and activate its `LANGUAGE_CODE`.

    The binding belongs to the current asyncio task (or thread); pass the returned
    token to `end_event_request` to undo it.
    """
    token = _request.set(request)
    language: Any = getattr(request, "LANGUAGE_CODE", None)
    if language:
        from django.utils import translation

        translation.activate(language)
    return token


def end_event_request(token: Token[HttpRequest | None] | None = None) -> None:
    """Undo `begin_event_request`: restore the previous binding (with `token`) or
    clear it, and deactivate the language the request activated."""
    request = _request.get()
    if token is None:
        _request.set(None)
    else:
        try:
            _request.reset(token)
        except (ValueError, RuntimeError):  # token used, or from another context
            _request.set(None)
    if getattr(request, "LANGUAGE_CODE", None):
        from django.utils import translation

        translation.deactivate()
