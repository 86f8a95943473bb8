"""Django inside Reflex's ASGI app: the in-process mode of `ReflexDjangoPlugin`.

Under plain `reflex run` (dev, `--env prod` on Reflex's single port, and Reflex's own
hosting) there is no front door, so the plugin hands Reflex an `api_transformer` that
sends Django's prefixes to Django and everything else to Reflex, by the same rules as
the front door (`reflex_django.prefixes`). Under `reflex-django run` the front door
routes and the plugin does not install this.

    from reflex_django.asgi import build_django_asgi, make_dispatcher

    app = rx.App(api_transformer=make_dispatcher(build_django_asgi(), backend_prefixes=("/admin", "/api")))

Lifespan events always go to Reflex, which owns them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, cast

from reflex_django.prefixes import (
    INTERNAL_PREFIX,
    RESERVED_REFLEX_PREFIXES,
    is_under,
    normalize_prefix,
    routes_to_django,
)

__all__ = [
    "RESERVED_REFLEX_PREFIXES",
    "ASGIApp",
    "ASGIMessage",
    "ASGIReceive",
    "ASGIScope",
    "ASGISend",
    "build_django_asgi",
    "keep_reflex_cors_off_django",
    "make_dispatcher",
    "request_path",
    "with_package_views",
]

ASGIScope = MutableMapping[str, Any]
ASGIMessage = MutableMapping[str, Any]
ASGIReceive = Callable[[], Awaitable[ASGIMessage]]
ASGISend = Callable[[ASGIMessage], Awaitable[None]]
ASGIApp = Callable[[ASGIScope, ASGIReceive, ASGISend], Awaitable[None]]


def build_django_asgi() -> ASGIApp:
    """Django's ASGI application, configured first (`configure_django()`).

    With `django.contrib.staticfiles` installed it also answers `STATIC_URL` from the
    apps' static files (the admin's CSS and JS), whatever `DEBUG` says, since nothing
    else serves them on Reflex's port. Stock Django speaks only HTTP: a WebSocket under
    a Django prefix is refused with a close (403) rather than an exception in the log;
    pass your own app (e.g. Channels') to `make_dispatcher` to serve WebSockets.
    """
    from reflex_django.conf import configure_django

    configure_django()

    from django.conf import settings
    from django.core.asgi import get_asgi_application

    handler = get_asgi_application()
    if "django.contrib.staticfiles" in settings.INSTALLED_APPS:
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

        handler = ASGIStaticFilesHandler(handler)
    return _http_only(with_package_views(_asgi_app(handler)))


def _asgi_app(handler: Any) -> ASGIApp:
    """A Django ASGI handler as the ASGI app it is (django-stubs type its scope as a
    `dict` and its `send` as taking a `Mapping`, narrower than ASGI's own types)."""
    return cast(ASGIApp, handler)


def with_package_views(app: ASGIApp) -> ASGIApp:
    """`app` (Django's ASGI app, configured), with HTTP requests under `/_reflex_django/`
    resolved by `reflex_django.package_urls`: this package's views (the session
    hand-off) then work whatever the project's ROOT_URLCONF includes, as they must for
    a project written for reflex-django 0.2.3. The project's middleware runs as usual.
    """
    from django.core.handlers.asgi import ASGIHandler, ASGIRequest

    class PackageRequest(ASGIRequest):
        urlconf = "reflex_django.package_urls"  # Django resolves with it (`request.urlconf`)

    class PackageViews(ASGIHandler):
        request_class = PackageRequest

    package_views = _asgi_app(PackageViews())

    async def django(scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        if scope["type"] == "http" and is_under(request_path(scope), INTERNAL_PREFIX):
            await package_views(scope, receive, send)
        else:
            await app(scope, receive, send)

    return django


def _http_only(app: ASGIApp) -> ASGIApp:
    async def django(scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})
            return
        await app(scope, receive, send)

    return django


def request_path(scope: ASGIScope) -> str:
    """The path as the client sent it (percent-encoded, like the front door matches it),
    falling back to the decoded `path` when the server gives no `raw_path`."""
    raw = scope.get("raw_path")
    if raw:
        return bytes(raw).decode("latin-1").split("?", 1)[0]
    return str(scope.get("path", ""))


def make_dispatcher(django_asgi: ASGIApp, *, backend_prefixes: Iterable[str]) -> Callable[[ASGIApp], ASGIApp]:
    """An `api_transformer` for `rx.App`: requests (HTTP and WebSocket) under
    `backend_prefixes` go to `django_asgi`, everything else to Reflex.

    The prefixes are normalised by the shared rules; an empty list, `/`, or a prefix at
    or under one of Reflex's own paths raises `ValueError` (a `PrefixError`).
    """
    prefixes = tuple(dict.fromkeys(normalize_prefix(p) for p in backend_prefixes))
    if not prefixes:
        raise ValueError("make_dispatcher needs at least one prefix, e.g. backend_prefixes=('/admin',)")

    def transformer(reflex_asgi: ASGIApp) -> ASGIApp:
        _static_mounts_http_only(reflex_asgi)

        async def dispatch(scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
            if scope["type"] in ("http", "websocket") and routes_to_django(request_path(scope), prefixes):
                await django_asgi(scope, receive, send)
            else:
                await reflex_asgi(scope, receive, send)

        return dispatch

    transformer.backend_prefixes = prefixes  # type: ignore[attr-defined]
    return transformer


def _static_mounts_http_only(app: Any) -> None:
    """Make Reflex's catch-all frontend mount (production, single port) match HTTP only.

    Starlette lets a `Mount` match WebSocket scopes, but `StaticFiles` asserts HTTP, so
    a WebSocket that no earlier route took would fail inside it instead of being
    refused cleanly.
    """
    from starlette.routing import Match, Mount
    from starlette.staticfiles import StaticFiles

    class HttpOnlyMount(Mount):
        def matches(self, scope: ASGIScope) -> tuple[Match, ASGIScope]:
            if scope["type"] != "http":
                return Match.NONE, {}
            return super().matches(scope)

    routes = getattr(app, "routes", None)
    if not isinstance(routes, list):
        return
    for index, route in enumerate(routes):
        if type(route) is Mount and isinstance(route.app, StaticFiles):
            routes[index] = HttpOnlyMount(route.path, app=route.app, name=route.name)


def keep_reflex_cors_off_django(prefixes: Iterable[str]) -> bool:
    """Make the CORS middleware Reflex puts around its whole ASGI app leave Django's
    prefixes alone, as they are under the front door; returns whether it could.

    Reflex allows credentialed cross-origin reads from `cors_allowed_origins` (every
    origin by default, the request's own echoed back). For Reflex's endpoints that is
    Reflex's choice; Django's pages (the admin, your API) answer for themselves (e.g.
    with django-cors-headers). Reflex adds the middleware in `App._add_cors` when it
    builds the app, after the plugins ran, so that method is wrapped: the middleware it
    adds becomes one that passes Django's paths straight through.
    """
    from reflex.app import App
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware

    add_cors = App.__dict__.get("_add_cors")
    if not isinstance(add_cors, staticmethod):
        return False
    original = getattr(add_cors.__func__, "reflex_django_original", add_cors.__func__)
    django_prefixes = tuple(prefixes)

    class CORSExceptDjango(CORSMiddleware):
        async def __call__(self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
            if scope["type"] == "http" and routes_to_django(request_path(scope), django_prefixes):
                await self.app(scope, receive, send)
            else:
                await super().__call__(scope, receive, send)

    def _add_cors(api: Any) -> None:
        original(api)
        added = api.user_middleware[0] if getattr(api, "user_middleware", None) else None
        if not isinstance(added, Middleware):
            return
        cls, args, kwargs = added  # as Starlette unpacks it when it builds the stack
        if cls is CORSMiddleware:
            api.user_middleware[0] = Middleware(CORSExceptDjango, *args, **kwargs)

    _add_cors.reflex_django_original = original  # type: ignore[attr-defined]
    App._add_cors = staticmethod(_add_cors)  # type: ignore[method-assign]
    return True
