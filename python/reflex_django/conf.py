"""Boot Django inside the Reflex process: `configure_django()`."""

from __future__ import annotations

import os
import threading
from typing import Any

__all__ = ["configure_django", "setting"]

_lock = threading.RLock()
_local = threading.local()


def configure_django(settings_module: str | None = None) -> None:
    """Run `django.setup()` once, from any thread, as often as you like.

    `settings_module` is only a default: a `DJANGO_SETTINGS_MODULE` already in the
    environment wins. Calls made while Django is being set up on the same thread
    (an `AppConfig.ready()` that imports your Reflex app, say) return at once, and
    calls from other threads wait until Django is ready.
    """
    if settings_module:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    from django.apps import apps

    if apps.ready or getattr(_local, "busy", False):
        return
    with _lock:
        if apps.ready:
            return
        _check_settings()
        _local.busy = True
        try:
            import django

            django.setup()
        finally:
            _local.busy = False


def _check_settings() -> None:
    """Turn the usual settings mistakes into one clear message."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if settings.configured:
        return
    module = os.environ.get("DJANGO_SETTINGS_MODULE", "")
    if not module:
        raise ImproperlyConfigured(
            "reflex-django: no Django settings module; pass "
            "ReflexDjangoPlugin(settings_module='mysite.settings') in rxconfig.py "
            "or set DJANGO_SETTINGS_MODULE"
        )
    try:
        settings.INSTALLED_APPS  # noqa: B018 - imports the settings module
    except ModuleNotFoundError as exc:
        if exc.name is None or not (module + ".").startswith(exc.name + "."):
            raise  # something the settings module imports is missing
        raise ImproperlyConfigured(
            f"reflex-django: cannot import the Django settings module {module!r} "
            f"(DJANGO_SETTINGS_MODULE): no module named {exc.name!r}; check the name "
            "and run from the project root"
        ) from None


def setting(name: str, default: Any = None) -> Any:
    """A Django setting, or `default` when the project does not define it."""
    from django.conf import settings

    return getattr(settings, name, default)
