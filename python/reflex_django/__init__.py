"""reflex-django: Django (ORM, admin, sessions, auth) and Reflex, together.

The `reflex-django` command (a Rust binary shipped in the same wheel) runs both;
this package holds what must run inside the Reflex process. It is also a Django app
(`INSTALLED_APPS = [..., "reflex_django"]`), so importing it stays cheap: the names
below load Reflex and Django only when first used.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from reflex_django._lazy import lazy_exports

try:
    __version__ = version("reflex-django")
except PackageNotFoundError:  # running from a source checkout
    __version__ = "0.0.0+source"

if TYPE_CHECKING:
    from reflex_django.auth_state import DjangoUserState
    from reflex_django.context import (
        current_language,
        current_request,
        current_session,
        current_user,
    )
    from reflex_django.i18n_state import DjangoI18nState
    from reflex_django.middleware import DjangoEventBridge
    from reflex_django.plugin import ReflexDjangoPlugin
    from reflex_django.reflex_context import DjangoContextState

_EXPORTS = {
    "ReflexDjangoPlugin": "reflex_django.plugin",
    "current_request": "reflex_django.context",
    "current_user": "reflex_django.context",
    "current_session": "reflex_django.context",
    "current_language": "reflex_django.context",
    "DjangoEventBridge": "reflex_django.middleware",
    "DjangoUserState": "reflex_django.auth_state",
    "DjangoI18nState": "reflex_django.i18n_state",
    "DjangoContextState": "reflex_django.reflex_context",
}

__all__ = [
    "DjangoContextState",
    "DjangoEventBridge",
    "DjangoI18nState",
    "DjangoUserState",
    "ReflexDjangoPlugin",
    "__version__",
    "current_language",
    "current_request",
    "current_session",
    "current_user",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
