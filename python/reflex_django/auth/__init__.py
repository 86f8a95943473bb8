"""Canned Django auth pages for Reflex: sign in, sign up, sign out, password reset.

    from reflex_django.auth import add_auth_pages, login_required, routes
    from reflex_django.auth.state import DjangoAuthState

Settings: `REFLEX_DJANGO_AUTH` (`reflex_django.auth.conf`). The names below import
Reflex when first used, so Django-only code (the hand-off view) can import the
submodules `conf`, `routes` and `accounts` without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reflex_django._lazy import lazy_exports

if TYPE_CHECKING:
    from reflex_django.auth import routes
    from reflex_django.auth.guards import login_required
    from reflex_django.auth.pages import add_auth_pages
    from reflex_django.auth.state import DjangoAuthState

_EXPORTS = {
    "add_auth_pages": "reflex_django.auth.pages",
    "login_required": "reflex_django.auth.guards",
    "DjangoAuthState": "reflex_django.auth.state",
    "routes": "reflex_django.auth.routes",
}

__all__ = ["DjangoAuthState", "add_auth_pages", "login_required", "routes"]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
