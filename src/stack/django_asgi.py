"""Django's ASGI application as `reflex-django run` serves it in development.

Imported by uvicorn or granian as `reflex_django_dev_asgi:application`. Loads the
project's own ASGI app (`REFLEX_DJANGO_ASGI_APP`, "module:attribute") or Django's
default one, and in DEBUG serves /static/ the way `runserver` does, so the admin has
its CSS under a bare ASGI server too.
"""

import importlib
import os

import django
from django.apps import apps
from django.conf import settings
from django.core.asgi import get_asgi_application


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
    return app


application = _load()
