"""The Django request of the Reflex event being processed.

`DjangoEventBridge` binds a synthetic `HttpRequest` to a context variable for the
duration of each event; these helpers read it. Outside an event (or without the
bridge) there is no request: `current_request()` is None and `current_user()` is
`AnonymousUser`.

Binding by hand (tests, scripts):

- `begin_event_request(request)` / `end_event_request()` nest: each `end` undoes the
  most recent `begin` of the same context and restores the request bound before it.
  `end_event_request(token)` undoes a specific `begin` (the token it returned).
- `set_current_request(request)` / `reset_current_request(token)` are the bare
  context-variable operations (no language activation, no nesting bookkeeping).
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
    "reset_current_request",
    "set_current_request",
]

_request: ContextVar[HttpRequest | None] = ContextVar("reflex_django_request", default=None)
# The tokens of the `begin_event_request` calls not yet ended in this context, oldest
# first. A tuple, never mutated: a task that copies the context gets its own stack.
_begun: ContextVar[tuple[Token[HttpRequest | None], ...]] = ContextVar(
    "reflex_django_begun", default=()
)


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


def set_current_request(request: HttpRequest | None) -> Token[HttpRequest | None]:
    """Bind `request` (None: no request) to the current context, nothing else.

    Returns the token for `reset_current_request`.
    """
    return _request.set(request)


def reset_current_request(token: Token[HttpRequest | None]) -> None:
    """Undo the `set_current_request` call that returned `token`."""
    _request.reset(token)


def begin_event_request(request: HttpRequest) -> Token[HttpRequest | None]:
    """Bind `request` to the current context and activate its `LANGUAGE_CODE`.

    The binding belongs to the current asyncio task (or thread). Undo it with
    `end_event_request()` (the latest `begin` of this context) or
    `end_event_request(token)` with the token returned here.
    """
    token = _request.set(request)
    _begun.set((*_begun.get(), token))
    _activate_language_of(request)
    return token


def end_event_request(token: Token[HttpRequest | None] | None = None) -> None:
    """Undo a `begin_event_request`: the latest one of this context without `token`,
    else the one that returned `token`; the request bound before it is bound again.

    Without a pending `begin` it does nothing, so calling it twice is harmless. A
    token from another context (or already used) clears the binding instead.
    """
    ending = _request.get()
    begun = _begun.get()
    if token is None:
        if not begun:
            return
        token = begun[-1]
    if token in begun:
        _begun.set(begun[: begun.index(token)])
    try:
        _request.reset(token)
    except (ValueError, RuntimeError):  # used already, or made in another context
        _request.set(None)
    restored = _request.get()
    if getattr(restored, "LANGUAGE_CODE", None):
        _activate_language_of(restored)
    elif getattr(ending, "LANGUAGE_CODE", None):
        from django.utils import translation

        translation.deactivate()


def _activate_language_of(request: Any) -> None:
    language = getattr(request, "LANGUAGE_CODE", None)
    if language:
        from django.utils import translation

        translation.activate(language)
