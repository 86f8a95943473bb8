"""The Django request of the Reflex event being processed.

`DjangoEventBridge` binds a synthetic `HttpRequest` to a context variable for the
duration of each event; these helpers read it. Outside an event (or without the
bridge) there is no request: `current_request()` is None and `current_user()` is
`AnonymousUser`.

Binding by hand (tests, scripts):

- `begin_event_request(request)` / `end_event_request()`, as in reflex-django 0.2.3:
  `begin` first ends a binding an earlier `begin` left in this context (so a leaked
  binding never outlives the next event), `end` restores what was bound before the
  latest `begin` and is harmless when repeated. `end_event_request(token)` undoes the
  `begin` that returned `token`.
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
# The token of the `begin_event_request` not yet ended in this context, if any.
_pending: ContextVar[Token[HttpRequest | None] | None] = ContextVar("reflex_django_pending", default=None)


def current_request() -> HttpRequest | None:
    """The request bound to the current event, or None outside one."""
    return _request.get()


def current_user() -> AbstractBaseUser | AnonymousUser:
    """The event's Django user (resolved and verified like Django's auth middleware
    does), or `AnonymousUser`. Use it for every server-side check."""
    user: AbstractBaseUser | AnonymousUser | None = getattr(_request.get(), "user", None)
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
    """Bind `request` to the current context and activate its `LANGUAGE_CODE`, after
    ending a binding an earlier `begin` of this context left.

    The binding belongs to the current asyncio task (or thread). Undo it with
    `end_event_request()` or `end_event_request(token)` with the token returned here.
    """
    end_event_request()
    token = _request.set(request)
    _pending.set(token)
    _activate_language_of(request)
    return token


def end_event_request(token: Token[HttpRequest | None] | None = None) -> None:
    """Undo a `begin_event_request` (the latest of this context, or the one that
    returned `token`): the request bound before it is bound again.

    Without a pending `begin` it does nothing, so calling it twice is harmless; nor
    does it end a binding inherited from the task that created this one. A `token`
    from another context (or already used) clears the binding instead.
    """
    pending = _pending.get()
    explicit = token is not None
    if token is None:
        if pending is None:
            return
        token = pending
    if token is pending:
        _pending.set(None)
    ending = _request.get()
    try:
        _request.reset(token)
    except (ValueError, RuntimeError):  # used already, or made in another context
        if not explicit:
            return  # a binding this task inherited is not its own to end
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
