"""Django system checks (`manage.py check`) for the reflex-django settings."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

__all__ = ["check_auth_settings"]


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
