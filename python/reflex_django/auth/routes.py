"""The routes of the canned auth pages, from `REFLEX_DJANGO_AUTH` (read when used)::

    from reflex_django.auth import routes
    rx.link("Sign in", href=routes.LOGIN_URL)
    routes.password_reset_confirm_path(uid, key)   # "/password-reset/confirm/<uid>/<key>"

Names: `LOGIN_URL`, `SIGNUP_URL`, `PASSWORD_RESET_URL`, `PASSWORD_RESET_CONFIRM_URL`,
`LOGIN_REDIRECT_URL`, `LOGOUT_REDIRECT_URL`, `SIGNUP_REDIRECT_URL`,
`REDIRECT_AUTHENTICATED_USER`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from reflex_django.auth.conf import auth_setting

__all__ = [
    "LOGIN_REDIRECT_URL",
    "LOGIN_URL",
    "LOGOUT_REDIRECT_URL",
    "PASSWORD_RESET_CONFIRM_URL",
    "PASSWORD_RESET_URL",
    "REDIRECT_AUTHENTICATED_USER",
    "SIGNUP_REDIRECT_URL",
    "SIGNUP_URL",
    "password_reset_confirm_path",
]

# Declared for type checkers and linters; the values come from `__getattr__`.
LOGIN_URL: str
SIGNUP_URL: str
PASSWORD_RESET_URL: str
PASSWORD_RESET_CONFIRM_URL: str
LOGIN_REDIRECT_URL: str
LOGOUT_REDIRECT_URL: str
SIGNUP_REDIRECT_URL: str
REDIRECT_AUTHENTICATED_USER: str | None

_NAMES = frozenset(__all__) - {"password_reset_confirm_path"}


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return auth_setting(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def password_reset_confirm_path(uid: str, key: str) -> str:
    """`PASSWORD_RESET_CONFIRM_URL` with `[uid]` and `[key]` filled in."""
    pattern = str(auth_setting("PASSWORD_RESET_CONFIRM_URL"))
    return pattern.replace("[uid]", quote(uid, safe="")).replace("[key]", quote(key, safe=""))


def match_password_reset_confirm(path: str) -> tuple[str, str] | None:
    """`(uid, key)` when `path` is a `PASSWORD_RESET_CONFIRM_URL` page, else None."""
    from urllib.parse import unquote

    pattern = [s for s in str(auth_setting("PASSWORD_RESET_CONFIRM_URL")).split("/") if s]
    parts = [s for s in path.split("/") if s]
    if len(parts) != len(pattern):
        return None
    found: dict[str, str] = {}
    for want, got in zip(pattern, parts, strict=True):
        if want in ("[uid]", "[key]"):
            found[want[1:-1]] = unquote(got)
        elif want != got:
            return None
    if set(found) != {"uid", "key"}:
        return None
    return found["uid"], found["key"]
