"""Boot Django inside the Reflex process: `configure_django()`, `is_configured()`."""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any

__all__ = ["DEFAULT_SETTINGS_MODULE", "configure_django", "is_configured", "setting"]

logger = logging.getLogger(__name__)

# Used when neither the environment nor the caller names a settings module.
DEFAULT_SETTINGS_MODULE = "reflex_django.default_settings"

_lock = threading.RLock()
_local = threading.local()
# Why our `django.setup()` failed, if it did: Django cannot be set up twice in a
# process, and its registry would otherwise look "being populated" for ever.
_failure: BaseException | None = None
# The settings module once Django is ready: later calls (one per Reflex event) return
# it at once.
_ready_module: str | None = None


def configure_django(settings_module: str | None = None) -> str:
    """Run `django.setup()` once, from any thread, as often as you like; return the
    dotted name of the settings module in use.

    Which settings: `DJANGO_SETTINGS_MODULE` from the environment wins, then
    `settings_module`, then `reflex_django.default_settings` (a development setup:
    SQLite, the contrib apps and the admin; a warning is logged). Settings made with
    `settings.configure(...)` are kept as they are (the name returned is then "").

    Calls made while Django is being set up on the same thread (an
    `AppConfig.ready()` that imports your Reflex app, say) return at once, and calls
    from other threads wait until Django is ready.
    """
    global _failure, _ready_module
    if _ready_module is not None:
        return _ready_module
    if not os.environ.get("DJANGO_SETTINGS_MODULE") and not _configured_by_hand():
        chosen = settings_module or DEFAULT_SETTINGS_MODULE
        os.environ["DJANGO_SETTINGS_MODULE"] = chosen
        if chosen == DEFAULT_SETTINGS_MODULE:
            logger.warning(
                "reflex-django: no Django settings module (DJANGO_SETTINGS_MODULE or "
                "ReflexDjangoPlugin(settings_module=...)); using %s, which is meant for "
                "development only",
                DEFAULT_SETTINGS_MODULE,
            )
    active = os.environ.get("DJANGO_SETTINGS_MODULE", "")
    from django.apps import apps

    if apps.ready:
        _ready_module = active
        return active
    if getattr(_local, "busy", False):
        return active
    if _failure is not None:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"reflex-django: setting Django up failed earlier in this process: {_failure!r}; fix the cause and restart"
        ) from _failure
    if _populating_here(apps):
        return active
    with _lock:
        if apps.ready:
            _ready_module = active
            return active
        _check_settings()
        _local.busy = True
        try:
            import django

            django.setup()
        except BaseException as exc:
            _failure = exc
            raise
        finally:
            _local.busy = False
    _ready_module = active
    return active


def is_configured() -> bool:
    """Whether Django is set up in this process (by `configure_django` or otherwise).

    Imports nothing: False when Django's app registry was never loaded.
    """
    apps_module = sys.modules.get("django.apps")
    return bool(apps_module is not None and apps_module.apps.ready)


def _populating_here(apps: Any) -> bool:
    """Whether this thread is inside `apps.populate()` (Django set up by something
    other than `configure_django`, e.g. `manage.py`, whose admin autodiscovery
    imports `reflex_django.admin`). Django holds its re-entrant registry lock while
    populating; another thread could not take it."""
    if not apps.loading:
        return False
    lock = apps._lock
    if not lock.acquire(blocking=False):
        return False  # another thread is setting Django up: wait for it below
    lock.release()
    return True


def _configured_by_hand() -> bool:
    """Whether `settings.configure()` was called (so no settings module is needed)."""
    conf = sys.modules.get("django.conf")
    if conf is None:
        return False
    from django.conf import LazySettings

    settings = conf.settings
    # `configured` is also true once a settings *module* was loaded; only
    # `configure()` leaves a `UserSettingsHolder` behind.
    return isinstance(settings, LazySettings) and bool(
        settings.configured and type(settings._wrapped).__name__ == "UserSettingsHolder"
    )


def _check_settings() -> None:
    """Turn the usual settings mistakes into one clear message."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if settings.configured:
        return
    module = os.environ.get("DJANGO_SETTINGS_MODULE", "")
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
