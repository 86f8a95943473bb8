"""Django's ASGI application as `reflex-django run` serves it.

Imported by uvicorn or granian as `reflex_django_dev_asgi:application`. Loads the
project's own ASGI app (`REFLEX_DJANGO_ASGI_APP`, "module:attribute") or Django's
default one, and in DEBUG serves /static/ the way `runserver` does, so the admin has
its CSS under a bare ASGI server too. Paths under /_reflex_django/ reach the package's
own views even when the project's URLconf does not include them; /_reflex_django/alive
answers the supervisor's checks without Django.

The front door replaces the `X-Forwarded-For`/`-Proto` headers with the client and
scheme it determined (trusting only its configured proxies), and adds a key that only
it and this process know (REFLEX_DJANGO_FRONT_DOOR_KEY). Those headers are believed
from requests that carry the key, so Django's `REMOTE_ADDR` and `request.is_secure()`
come from the front door's answer under either server, and a local program that
connects to the internal port directly cannot pose as another client.
"""

import hmac
import importlib
import os

import django
from django.apps import apps
from django.conf import settings
from django.core.asgi import get_asgi_application

# The supervisor's readiness and liveness checks (`ALIVE_PATH` in django.rs): answered
# here, by the server's event loop, so they never reach Django's URLconf or its log.
ALIVE_PATH = "/_reflex_django/alive"

# Carries the front door's key (`FRONT_DOOR_KEY` in proxy/headers.rs).
FRONT_DOOR_KEY = b"x-reflex-django-front-door"


def _from_front_door(scope):
    """Whether the request came through the front door, with its key removed (Django's
    views never see it). Without a key (an older front door), any local peer counts."""
    expected = os.environ.get("REFLEX_DJANGO_FRONT_DOOR_KEY", "").encode()
    headers = scope.get("headers", ())
    offered = [value for name, value in headers if name == FRONT_DOOR_KEY]
    if offered:
        scope["headers"] = [(name, value) for name, value in headers if name != FRONT_DOOR_KEY]
    if expected:
        return len(offered) == 1 and hmac.compare_digest(offered[0], expected)
    client = scope.get("client")
    return bool(client) and client[0] in ("127.0.0.1", "::1")


def _forwarded(app):
    """Take the client address and scheme from the front door's headers."""

    async def application(scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            scope = dict(scope)
        if scope["type"] in ("http", "websocket") and _from_front_door(scope):
            for name, value in scope.get("headers", ()):
                if name == b"x-forwarded-for":
                    scope = dict(scope, client=(value.decode("latin-1").split(",")[-1].strip(), 0))
                elif name == b"x-forwarded-proto" and value in (b"http", b"https"):
                    secure = value == b"https"
                    if scope["type"] == "websocket":
                        scheme = "wss" if secure else "ws"
                    else:
                        scheme = "https" if secure else "http"
                    scope = dict(scope, scheme=scheme)
        return await app(scope, receive, send)

    return application


def _load():
    target = os.environ.get("REFLEX_DJANGO_ASGI_APP", "")
    if target:
        module, _, attribute = target.partition(":")
        app = getattr(importlib.import_module(module), attribute or "application")
    else:
        app = get_asgi_application()
    django.setup(set_prefix=False)
    if settings.DEBUG and apps.is_installed("django.contrib.staticfiles"):
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

        app = ASGIStaticFilesHandler(app)
    try:  # reflex-django's own views under /_reflex_django/, whatever ROOT_URLCONF says
        from reflex_django.asgi import with_package_views
    except ImportError:  # the Python package is not installed in this environment
        pass
    else:
        app = with_package_views(app)
    return _alive(_forwarded(app))


def _alive(app):
    async def application(scope, receive, send):
        if scope["type"] == "http" and scope.get("path") == ALIVE_PATH:
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"alive"})
            return
        return await app(scope, receive, send)

    return application


application = _load()
