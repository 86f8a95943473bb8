"""`DjangoEventBridge`: Django's session, user and language for every Reflex event.

Reflex events arrive over Socket.IO, so Django's middleware never runs for them. The
bridge is a Reflex middleware: Reflex 0.10 runs each event in its own asyncio task
(`EventProcessor._create_event_task`) and, inside that task,
`BaseStateEventProcessor._execute_event` awaits `app._preprocess(state, event)` and
then the handler. `preprocess` builds a synthetic `HttpRequest` from the event's
`router_data` and binds it to a context variable of that task, so the handler (and
anything it awaits) sees it, and no other event does. A done-callback on the task
clears the binding when the task ends, whether the handler returned or raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from reflex.middleware.middleware import Middleware

from reflex_django.conf import configure_django
from reflex_django.context import begin_event_request, end_event_request

if TYPE_CHECKING:
    from django.http import HttpRequest
    from reflex.app import App
    from reflex.state import BaseState, StateUpdate
    from reflex_base.event import Event

__all__ = ["DjangoEventBridge", "build_event_request", "resolve_event_request"]

logger = logging.getLogger(__name__)

# Header names Reflex adds to `router_data["headers"]` that the browser never sent.
_NOT_HEADERS = frozenset({"asgi-scope-client"})


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
        request = await resolve_event_request(router_data)
        token = begin_event_request(request)
        task = asyncio.current_task()
        if task is not None:
            context = task.get_context()
            task.add_done_callback(lambda _: context.run(end_event_request, token))
        return None  # never short-circuits the event

    def __repr__(self) -> str:
        return "DjangoEventBridge()"


async def resolve_event_request(router_data: Mapping[str, Any]) -> HttpRequest:
    """The event's request with `session`, `LANGUAGE_CODE` and `user` set.

    Never raises: a failure is logged and the request carries `AnonymousUser`.
    """
    configure_django()
    from asgiref.sync import sync_to_async
    from django.conf import settings
    from django.contrib.auth import get_user
    from django.contrib.auth.models import AnonymousUser

    request: HttpRequest | None = None
    try:
        request = build_event_request(_mapping(router_data))
        engine = import_module(settings.SESSION_ENGINE)
        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        request.session = engine.SessionStore(session_key)
        if settings.USE_I18N and getattr(settings, "REFLEX_DJANGO_I18N_EVENT_BRIDGE", True):
            from django.utils import translation

            # LocaleMiddleware's negotiation (language cookie, Accept-Language,
            # LANGUAGE_CODE). Not the URL prefix: Reflex pages are not routed by
            # Django's URLconf.
            request.LANGUAGE_CODE = translation.get_language_from_request(request)
        # No session cookie, no user to look up (nothing to load either). Otherwise
        # the session row and the user row are read in one trip to Django's sync
        # thread (`aget_user` makes one per query), every event: nothing is cached,
        # so a logout, password change or deactivation made anywhere shows at once.
        user: Any = await sync_to_async(get_user)(request) if session_key else AnonymousUser()
    except Exception as exc:
        logger.exception(
            "reflex-django: could not load the Django session or user for a Reflex "
            "event (%s: %s); the handler sees AnonymousUser",
            type(exc).__name__,
            exc,
        )
        user = AnonymousUser()
    if request is None:
        from django.http import HttpRequest

        request = HttpRequest()
    request.user = user

    async def auser() -> Any:
        return user

    request.auser = auser
    return request


def build_event_request(router_data: Mapping[str, Any]) -> HttpRequest:
    """A synthetic GET `HttpRequest` for the page the event came from.

    Cookies and headers come from the Socket.IO handshake (`router_data["headers"]`),
    `REMOTE_ADDR` from the client IP, the path and query string from the page URL
    (`asPath`, else `pathname`/`query`), `SERVER_NAME`/`SERVER_PORT` from `Host`.
    Nothing is loaded from the database.
    """
    from django.http import HttpRequest, QueryDict
    from django.http.cookie import parse_cookie

    headers = {
        str(name).lower(): str(value)
        for name, value in _mapping(router_data.get("headers")).items()
        if value is not None
    }
    request = HttpRequest()
    meta = request.META
    for name, value in headers.items():
        # Like Django's servers: drop names with "_" (they would alias "-").
        if "_" in name or name in _NOT_HEADERS:
            continue
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        meta[key] = str(value)
    request.COOKIES = parse_cookie(headers.get("cookie", ""))

    as_path = router_data.get("asPath")
    if as_path:
        url = urlsplit(str(as_path))
        path, query = unquote(url.path) or "/", url.query
        request.GET = QueryDict(query)
    else:
        path = str(router_data.get("pathname") or "/")
        request.GET = _query_dict(_mapping(router_data.get("query")))
        query = request.GET.urlencode()
    request.path = request.path_info = path
    request.method = "GET"
    host, port = _split_host(headers.get("host", ""), secure=_looks_secure(headers))
    meta.update(
        REQUEST_METHOD="GET",
        PATH_INFO=path,
        SCRIPT_NAME="",
        QUERY_STRING=query,
        REMOTE_ADDR=str(router_data.get("ip") or ""),
        SERVER_NAME=host,
        SERVER_PORT=port,
    )
    return request


def _router_data_of(obj: Any) -> dict[str, Any]:
    try:
        return _mapping(getattr(obj, "router_data", None))
    except Exception:  # a property that raises
        return {}


def _mapping(value: Any) -> dict[str, Any]:
    """`value` as a dict when it is a mapping, else empty."""
    if isinstance(value, Mapping):
        try:
            return {str(k): v for k, v in value.items()}
        except Exception:  # a broken custom mapping
            return {}
    return {}


def _query_dict(query: Mapping[str, Any]) -> Any:
    from django.http import QueryDict

    result = QueryDict(mutable=True)
    for key, value in query.items():
        for item in value if isinstance(value, list) else [value]:
            result.appendlist(str(key), str(item))
    result._mutable = False
    return result


def _looks_secure(headers: Mapping[str, str]) -> bool:
    forwarded = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return forwarded == "https" or headers.get("origin", "").startswith("https:")


def _split_host(host: str, *, secure: bool) -> tuple[str, str]:
    default_port = "443" if secure else "80"
    if not host:
        return "localhost", default_port
    if host.startswith("["):  # [v6]:port
        name, _, rest = host[1:].partition("]")
        return name, rest.removeprefix(":") or default_port
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit():
        return name, port
    return host, default_port
