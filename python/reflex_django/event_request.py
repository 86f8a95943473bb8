"""The synthetic Django request of a Reflex event, built from Reflex's `router_data`
(the Socket.IO handshake's headers and cookies, the client IP, the page URL).

Building one reads nothing from the database, and the parts that cost something are
resolved only when read: `request.user` (from the bridge's memo, or set by the
bridge after verifying the session) and the session's data (see
`reflex_django.identity`). Every Reflex event builds one, so the settings it needs
are read once (`event_settings()`, refreshed when settings change) rather than per
event.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote, urlsplit

from django.core.signals import setting_changed
from django.http import HttpRequest, QueryDict
from django.http.cookie import parse_cookie
from django.utils.datastructures import MultiValueDict

if TYPE_CHECKING:
    from django.http.request import _ImmutableQueryDict  # django-stubs' type of GET and POST

__all__ = [
    "EventRequest",
    "EventSettings",
    "as_mapping",
    "build_event_request",
    "event_settings",
    "negotiated_language",
]

logger = logging.getLogger(__name__)

# Header names Reflex adds to `router_data["headers"]` that the browser never sent.
_NOT_HEADERS = frozenset({"asgi-scope-client"})
_BARE_META = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})


@dataclass(frozen=True, slots=True)
class EventSettings:
    """The settings every event reads."""

    session_engine: str
    session_cookie: str
    language_cookie: str
    negotiate_language: bool  # USE_I18N and REFLEX_DJANGO_I18N_EVENT_BRIDGE
    charset: str
    empty_query: _ImmutableQueryDict  # immutable: shared by every request without a query


@functools.cache
def event_settings() -> EventSettings:
    from django.conf import settings

    return EventSettings(
        session_engine=settings.SESSION_ENGINE,
        session_cookie=settings.SESSION_COOKIE_NAME,
        language_cookie=settings.LANGUAGE_COOKIE_NAME,
        negotiate_language=bool(settings.USE_I18N and getattr(settings, "REFLEX_DJANGO_I18N_EVENT_BRIDGE", True)),
        charset=settings.DEFAULT_CHARSET,
        empty_query=QueryDict(),
    )


class EventRequest(HttpRequest):
    """An `HttpRequest` for one Reflex event: a GET of the page the event came from.

    `user` is computed on first read (AnonymousUser unless the bridge says otherwise),
    so a handler that never asks pays nothing; assigning it works as on any request.
    """

    _resolve_user: Callable[[], Any] | None = None

    def __init__(self) -> None:
        # Like Django's own WSGIRequest, this sets HttpRequest's attributes itself
        # rather than calling its __init__, which makes two QueryDicts an event
        # replaces (a test checks that no attribute is missing). There is no body:
        # POST is empty and immutable, as for a real GET.
        empty = event_settings().empty_query
        self.GET = empty
        self.POST = empty
        self.COOKIES: dict[str, str] = {}
        self.META: dict[str, Any] = {}
        self.FILES = MultiValueDict()
        self.path = ""
        self.path_info = ""
        self.method = None
        self.resolver_match = None
        self.content_type = None
        self.content_params = None

    @property
    def user(self) -> Any:
        try:
            return self.__dict__["_user"]
        except KeyError:
            pass
        resolve = self._resolve_user
        user: Any = None
        if resolve is not None:
            try:
                user = resolve()
            except Exception as exc:
                logger.exception(
                    "reflex-django: could not build the Django user of a Reflex event (%s: %s); "
                    "the handler sees AnonymousUser",
                    type(exc).__name__,
                    exc,
                )
        if user is None:
            from django.contrib.auth.models import AnonymousUser

            user = AnonymousUser()
        self.__dict__["_user"] = user
        return user

    @user.setter
    def user(self, value: Any) -> None:
        self.__dict__["_user"] = value

    def resolve_user_with(self, resolve: Callable[[], Any]) -> None:
        """Have `user` computed by `resolve()` when first read."""
        self.__dict__.pop("_user", None)
        self._resolve_user = resolve

    async def auser(self) -> Any:
        """The user (as `request.auser()` after Django's AuthenticationMiddleware)."""
        return self.user


def build_event_request(router_data: Mapping[str, Any]) -> EventRequest:
    """A synthetic GET `HttpRequest` for the page the event came from.

    Cookies and headers come from the Socket.IO handshake (`router_data["headers"]`),
    `REMOTE_ADDR` from the client IP, the path and query string from the page URL
    (`asPath`, else `pathname`/`query`), `SERVER_NAME`/`SERVER_PORT` from `Host`.
    Nothing is loaded from the database.
    """
    conf = event_settings()
    request = EventRequest()
    handshake = _handshake(router_data.get("headers"))
    request.META = meta = dict(handshake.meta)
    request.COOKIES = dict(handshake.cookies)

    as_path = router_data.get("asPath")
    if as_path:
        url = urlsplit(str(as_path))
        path, query = unquote(url.path) or "/", url.query
        if query:
            request.GET = QueryDict(query, encoding=conf.charset)
    else:
        path = str(router_data.get("pathname") or "/")
        params = as_mapping(router_data.get("query"))
        if params:
            request.GET = _query_dict(params)
        query = request.GET.urlencode()
    request.path = request.path_info = path
    request.method = "GET"
    meta.update(
        SERVER_NAME=handshake.host,
        SERVER_PORT=handshake.port,
        REQUEST_METHOD="GET",
        PATH_INFO=path,
        SCRIPT_NAME="",
        QUERY_STRING=query,
        REMOTE_ADDR=str(router_data.get("ip") or ""),
    )
    return request


@dataclass(frozen=True, slots=True)
class _Handshake:
    """What a Socket.IO handshake's headers give every event of its connection."""

    meta: dict[str, str]  # the HTTP_* (and CONTENT_*) entries
    cookies: dict[str, str]
    host: str
    port: str


_handshakes: dict[tuple[Any, ...], _Handshake] = {}
_caches_lock = threading.Lock()


def _handshake(raw: Any) -> _Handshake:
    """The handshake of these headers: every event of a connection sends the same
    ones, so the result is remembered (the caller copies the dicts it hands out)."""
    try:
        key = tuple(raw.items()) if type(raw) is dict else None
        found = _handshakes.get(key) if key is not None else None
    except TypeError:  # a value that cannot be hashed
        key = found = None
    if found is not None:
        return found
    headers: dict[str, str] = {}
    meta: dict[str, str] = {}
    for raw_name, raw_value in as_mapping(raw).items():
        if raw_value is None:
            continue
        name, value = raw_name.lower(), str(raw_value)
        headers[name] = value
        # Like Django's servers: drop names with "_" (they would alias "-").
        if "_" in name or name in _NOT_HEADERS:
            continue
        meta_key = name.upper().replace("-", "_")
        meta[meta_key if meta_key in _BARE_META else "HTTP_" + meta_key] = value
    host, port = _split_host(headers.get("host", ""), secure=_looks_secure(headers))
    found = _Handshake(meta, parse_cookie(headers.get("cookie", "")), host, port)
    if key is not None:
        with _caches_lock:
            if len(_handshakes) >= 1024:
                _handshakes.clear()
            _handshakes[key] = found
    return found


def as_mapping(value: Any) -> dict[str, Any]:
    """`value` as a dict with str keys when it is a mapping, else empty."""
    if isinstance(value, Mapping):
        try:
            return {str(k): v for k, v in value.items()}
        except Exception:  # a broken custom mapping
            return {}
    return {}


def _query_dict(query: Mapping[str, Any]) -> _ImmutableQueryDict:
    result = QueryDict(mutable=True)
    for key, value in query.items():
        for item in value if isinstance(value, list) else [value]:
            result.appendlist(str(key), str(item))
    result._mutable = False
    return cast("_ImmutableQueryDict", result)


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


_languages: dict[tuple[str | None, str | None], str] = {}


def negotiated_language(request: HttpRequest) -> str:
    """LocaleMiddleware's choice (language cookie, Accept-Language, LANGUAGE_CODE),
    remembered per (cookie, header) pair: it depends on nothing else but the settings.
    Not the URL prefix: Reflex pages are not routed by Django's URLconf."""
    key = (request.COOKIES.get(event_settings().language_cookie), request.META.get("HTTP_ACCEPT_LANGUAGE"))
    language = _languages.get(key)
    if language is None:
        from django.utils import translation

        language = translation.get_language_from_request(request)
        with _caches_lock:
            if len(_languages) >= 1024:
                _languages.clear()
            _languages[key] = language
    return language


def _settings_changed(**_: Any) -> None:
    """Settings changed (tests): read them again, negotiate again."""
    event_settings.cache_clear()
    with _caches_lock:
        _languages.clear()


setting_changed.connect(_settings_changed, dispatch_uid="reflex_django.event_request")
