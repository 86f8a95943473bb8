"""Django system checks (`manage.py check`) for the reflex-django settings."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

__all__ = ["check_app_order", "check_auth_settings", "check_event_bridge_settings"]


def check_auth_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """`REFLEX_DJANGO_AUTH` is valid; reset links have an origin."""
    from reflex_django.auth.conf import auth_settings

    try:
        settings = auth_settings()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="reflex_django.E001")]
    found: list[checks.CheckMessage] = []
    if not settings["ENABLED"]:
        return found
    if settings["PASSWORD_RESET_ENABLED"] and settings["SITE_ORIGIN"] is None:
        found.append(
            checks.Warning(
                "password reset is enabled but REFLEX_DJANGO_AUTH['SITE_ORIGIN'] is not set, "
                "so no reset link can be built",
                hint="set it to the public origin of the app, e.g. 'https://example.com', "
                "or set PASSWORD_RESET_ENABLED to False",
                id="reflex_django.W001",
            )
        )
    return found


def check_event_bridge_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The auth change log and the memo's age are usable values."""
    from django.conf import settings

    found: list[checks.CheckMessage] = []
    log = getattr(settings, "REFLEX_DJANGO_AUTH_CHANGE_LOG", "auto")
    if log not in (None, "", "auto") and (not isinstance(log, (str, PurePath)) or not PurePath(log).is_absolute()):
        found.append(
            checks.Error(
                f"REFLEX_DJANGO_AUTH_CHANGE_LOG must be an absolute path, 'auto' or None, not {log!r}",
                hint="processes started from other directories would each use another file and miss "
                "each other's changes; give the full path, e.g. str(BASE_DIR / 'auth-changes.log')",
                id="reflex_django.E002",
            )
        )
    age = getattr(settings, "REFLEX_DJANGO_AUTH_MEMO_MAX_AGE", 60)
    if isinstance(age, bool) or not isinstance(age, (int, float)) or age < 0:
        found.append(
            checks.Error(
                f"REFLEX_DJANGO_AUTH_MEMO_MAX_AGE must be a number of seconds >= 0, not {age!r}",
                hint="use 60 (the default), or 0 to verify every Reflex event against the database",
                id="reflex_django.E003",
            )
        )
    return found


def check_app_order(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """`reflex_django` comes before the admin, so its `admin/base.html` is the one used."""
    from django.apps import apps

    return app_order_problems([config.name for config in apps.get_app_configs()])


def app_order_problems(names: list[str]) -> list[checks.CheckMessage]:
    """What is wrong with the order of the installed apps' `names`."""
    if "django.contrib.admin" not in names or "reflex_django" not in names:
        return []
    if names.index("reflex_django") < names.index("django.contrib.admin"):
        return []
    return [
        checks.Warning(
            "'reflex_django' is listed after 'django.contrib.admin' in INSTALLED_APPS, so the admin "
            "keeps its colour theme under the same localStorage key as Reflex ('theme'): each logs "
            "an invalid-theme error in the browser and resets the other's choice",
            hint="move 'reflex_django' above 'django.contrib.admin' in INSTALLED_APPS",
            id="reflex_django.W002",
        )
    ]
