"""Canned Django auth pages for Reflex: sign in, sign up, sign out, password reset.

    from reflex_django.auth import add_auth_pages, login_required, routes
    from reflex_django.auth.state import DjangoAuthState

Settings: `REFLEX_DJANGO_AUTH` (`reflex_django.auth.conf`, or as a dataclass
`get_auth_settings()`). The names below import Reflex when first used, so Django-only
code (the hand-off view) can import the submodules `conf`, `settings`, `routes` and
`accounts` without it.

Modules: `registry` (`add_auth_pages`, `autoload`), `pages`, `state`
(`DjangoAuthState`), `guards`/`decorators` (`login_required`), `routes`, `settings`,
`mixins` (registration, password reset, navigation states), `accounts` (the rules, in
plain Django), `state_builders`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reflex_django._lazy import lazy_exports

if TYPE_CHECKING:
    from reflex_django.auth import pages, routes
    from reflex_django.auth.guards import login_required
    from reflex_django.auth.registry import add_auth_pages, autoload
    from reflex_django.auth.settings import AuthSettings, get_auth_settings
    from reflex_django.auth.state import DjangoAuthState

_EXPORTS = {
    "AuthSettings": "reflex_django.auth.settings",
    "DjangoAuthState": "reflex_django.auth.state",
    "add_auth_pages": "reflex_django.auth.registry",
    "autoload": "reflex_django.auth.registry",
    "get_auth_settings": "reflex_django.auth.settings",
    "login_required": "reflex_django.auth.guards",
    "pages": "reflex_django.auth.pages",
    "routes": "reflex_django.auth.routes",
}

__all__ = [
    "AuthSettings",
    "DjangoAuthState",
    "add_auth_pages",
    "autoload",
    "get_auth_settings",
    "login_required",
    "pages",
    "routes",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
