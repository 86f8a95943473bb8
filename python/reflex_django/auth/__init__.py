"""Canned Django auth pages for Reflex: sign in, sign up, sign out, password reset.

    from reflex_django.auth import add_auth_pages, login_required, routes
    from reflex_django.auth.state import DjangoAuthState

Settings: `REFLEX_DJANGO_AUTH` (`reflex_django.auth.conf`). The names below import
Reflex when first used, so Django-only code (the hand-off view) can import the
submodules `conf`, `routes` and `accounts` without it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reflex_django.auth import routes
    from reflex_django.auth.guards import login_required
    from reflex_django.auth.pages import add_auth_pages
    from reflex_django.auth.state import DjangoAuthState

_EXPORTS = {
    "add_auth_pages": "reflex_django.auth.pages",
    "login_required": "reflex_django.auth.guards",
    "DjangoAuthState": "reflex_django.auth.state",
}

__all__ = ["DjangoAuthState", "add_auth_pages", "login_required", "routes"]


def __getattr__(name: str) -> Any:
    if name == "routes":
        return import_module("reflex_django.auth.routes")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'reflex_django.auth' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
