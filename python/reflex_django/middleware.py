"""`DjangoEventBridge`: Django's session, user and language for every Reflex event.

Reflex events arrive over Socket.IO, so Django's middleware never runs for them. The
bridge is a Reflex middleware: Reflex 0.10 runs each event in its own asyncio task
(`EventProcessor._create_event_task`) and, inside that task,
`BaseStateEventProcessor._execute_event` awaits `app._preprocess(state, event)` and
then the handler. `preprocess` builds a synthetic `HttpRequest` from the event's
`router_data` (`reflex_django.event_request`) and binds it to a context variable of
that task, so the handler (and anything it awaits) sees it, and no other event does.
A done-callback on the task clears the binding when the task ends, whether the
handler returned or raised, and has Django's connections checked as at the end of a
request (`reflex_django.connections`).

The session cookie is verified as Django's middleware would, in one trip to Django's
sync thread, unless this process verified the same cookie before and nothing has
changed since (`reflex_django.identity`; docs/event-bridge.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from reflex.middleware.middleware import Middleware

from reflex_django import connections, identity, live
from reflex_django.conf import configure_django
from reflex_django.context import begin_event_request, end_event_request

if TYPE_CHECKING:
    from django.http import HttpRequest
    from reflex.app import App
    from reflex.state import BaseState, StateUpdate
    from reflex_base.event import Event

    from reflex_django.event_request import EventRequest

__all__ = ["DjangoEventBridge", "build_event_request", "resolve_event_request"]

logger = logging.getLogger(__name__)


class DjangoEventBridge(Middleware):
    """Reflex middleware that binds the event's Django request (see the module doc).

    Installed by `ReflexDjangoPlugin` unless `install_event_bridge=False`; to add it
    yourself: `app.add_middleware(DjangoEventBridge(), index=0)`.
    """

    async def preprocess(self, app: App, state: BaseState, event: Event) -> StateUpdate | None:
        # The state's router_data is what Reflex merged for this event; a chained
        # event carries only part of it (or nothing) in `event.router_data`. Either
        # may be missing or not a mapping (a custom state or event object): what is
        # unusable counts as empty, which gives an anonymous request.
        router_data = {**_router_data_of(state), **_router_data_of(event)}
        live.note_event(app, router_data.get("token") or _token_of(state), getattr(event, "name", ""))
        request = await _resolve(router_data)
        token = begin_event_request(request)
        task = asyncio.current_task()
        if task is not None:
            context = task.get_context()

            def ended(_: asyncio.Task[Any]) -> None:
                context.run(end_event_request, token)
                connections.after_event()  # as at the end of a request

            task.add_done_callback(ended)
        return None  # never short-circuits the event

    def __repr__(self) -> str:
        return "DjangoEventBridge()"


def build_event_request(router_data: Mapping[str, Any]) -> EventRequest:
    """A synthetic GET request for the page the event came from (no database work);
    see `reflex_django.event_request.build_event_request`."""
    from reflex_django.event_request import build_event_request as build

    return build(router_data)


async def resolve_event_request(router_data: Mapping[str, Any]) -> HttpRequest:
    """The event's request with `session`, `LANGUAGE_CODE` and `user` set.

    Never raises: a failure is logged and the request carries `AnonymousUser`.
    """
    from reflex_django.event_request import as_mapping

    return await _resolve(as_mapping(router_data))


async def _resolve(router_data: dict[str, Any]) -> EventRequest:
    configure_django()
    from reflex_django.event_request import EventRequest, build_event_request, event_settings, negotiated_language

    request: EventRequest | None = None
    try:
        conf = event_settings()
        request = build_event_request(router_data)
        engine = import_module(conf.session_engine)
        if conf.negotiate_language:
            request.LANGUAGE_CODE = negotiated_language(request)
        session_key = request.COOKIES.get(conf.session_cookie)
        if session_key:
            await _authenticate(request, engine, session_key)
        else:  # no session cookie, no user to look up (nothing to load either)
            request.session = engine.SessionStore(None)
    except Exception as exc:
        logger.exception(
            "reflex-django: could not load the Django session or user for a Reflex "
            "event (%s: %s); the handler sees AnonymousUser",
            type(exc).__name__,
            exc,
        )
        if request is None:
            request = EventRequest()
        from django.contrib.auth.models import AnonymousUser

        request.user = AnonymousUser()
    return request


async def _authenticate(request: EventRequest, engine: Any, session_key: str) -> None:
    """Set the session and the user of `request`: from this process's memo when it
    verified the cookie before and nothing changed since, else from the database (one
    trip to Django's sync thread for the session row and the user row)."""
    memo = identity.memo()
    pending = None
    if memo is not None:
        known, pending = memo.lookup(session_key)
        if known is not None:
            store = identity.memo_session_store(engine.SessionStore)(session_key)
            store._memo_data = known.session_data
            request.session = store
            request.resolve_user_with(known.user)
            return
    try:
        user, learnt = await sync_to_async(identity.verify)(request, engine, session_key, pending is not None)
    except BaseException:
        if memo is not None and pending is not None:
            memo.forget(pending)
        raise
    if memo is not None and pending is not None:
        if learnt is not None:
            memo.remember(pending, learnt)
        else:
            memo.forget(pending)
    request.user = user


def _token_of(state: Any) -> str:
    try:
        return str(state.router.session.client_token)
    except Exception:  # a custom state object
        return ""


def _router_data_of(obj: Any) -> Mapping[str, Any]:
    try:
        data = getattr(obj, "router_data", None)
    except Exception:  # a property that raises
        return {}
    if type(data) is dict:  # Reflex's own: read as it is (build_event_request only reads)
        return data
    from reflex_django.event_request import as_mapping

    return as_mapping(data)
