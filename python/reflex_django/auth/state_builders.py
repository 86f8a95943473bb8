"""`build_django_auth_state()` / `get_or_create_django_auth_state()` (the 0.2.3 names).

`DjangoAuthState` is an ordinary class now (`reflex_django.auth.state`), built once
from the session, registration, password reset and navigation members, and it reads
`REFLEX_DJANGO_AUTH` at each event. Both functions return that one class: Reflex
allows a single state of that name, and settings need no rebuild to take effect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import reflex as rx

    from reflex_django.auth.settings import AuthSettings

__all__ = ["build_django_auth_state", "get_or_create_django_auth_state"]


def build_django_auth_state(*, auth: AuthSettings | None = None) -> type[rx.State]:
    """`DjangoAuthState`. `auth` is accepted for compatibility and not needed: the
    state follows `REFLEX_DJANGO_AUTH` (pass the routes to `add_auth_pages` instead)."""
    del auth
    from reflex_django.auth.state import DjangoAuthState

    return DjangoAuthState


def get_or_create_django_auth_state() -> type[rx.State]:
    """`DjangoAuthState` (the same class on every call)."""
    return build_django_auth_state()
