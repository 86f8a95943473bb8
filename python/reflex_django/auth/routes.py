"""The routes of the canned auth pages, from `REFLEX_DJANGO_AUTH` (read when used)::

    from reflex_django.auth import routes
    rx.link("Sign in", href=routes.LOGIN_URL)
    routes.password_reset_confirm_path(uid, key)   # "/password-reset/confirm/<uid>/<key>"

Names: `LOGIN_URL`, `SIGNUP_URL`, `PASSWORD_RESET_URL`, `PASSWORD_RESET_CONFIRM_URL`,
`LOGIN_REDIRECT_URL`, `LOGOUT_REDIRECT_URL`, `SIGNUP_REDIRECT_URL`,
`REDIRECT_AUTHENTICATED_USER`; and the names reflex-django 0.2.3 used for the four
pages, `LOGIN_ROUTE`, `SIGNUP_ROUTE`, `PASSWORD_RESET_ROUTE`,
`PASSWORD_RESET_CONFIRM_ROUTE` (the same values).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from reflex_django.auth.conf import auth_setting, normalize_confirm_url

__all__ = [
    "LOGIN_REDIRECT_URL",
    "LOGIN_ROUTE",
    "LOGIN_URL",
    "LOGOUT_REDIRECT_URL",
    "PASSWORD_RESET_CONFIRM_ROUTE",
    "PASSWORD_RESET_CONFIRM_URL",
    "PASSWORD_RESET_ROUTE",
    "PASSWORD_RESET_URL",
    "REDIRECT_AUTHENTICATED_USER",
    "SIGNUP_REDIRECT_URL",
    "SIGNUP_ROUTE",
    "SIGNUP_URL",
    "match_password_reset_confirm",
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
LOGIN_ROUTE: str
SIGNUP_ROUTE: str
PASSWORD_RESET_ROUTE: str
PASSWORD_RESET_CONFIRM_ROUTE: str

# The 0.2.3 names, and the setting each one reads.
_ROUTE_ALIASES = {
    "LOGIN_ROUTE": "LOGIN_URL",
    "SIGNUP_ROUTE": "SIGNUP_URL",
    "PASSWORD_RESET_ROUTE": "PASSWORD_RESET_URL",
    "PASSWORD_RESET_CONFIRM_ROUTE": "PASSWORD_RESET_CONFIRM_URL",
}
_NAMES = frozenset(n for n in __all__ if n.isupper()) - set(_ROUTE_ALIASES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return auth_setting(name)
    if name in _ROUTE_ALIASES:
        return auth_setting(_ROUTE_ALIASES[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def password_reset_confirm_path(uid: str, key: str, pattern: str | None = None) -> str:
    """`PASSWORD_RESET_CONFIRM_URL` (or `pattern`) with `[uid]` and `[key]` filled in."""
    pattern = _confirm_pattern(pattern)
    return pattern.replace("[uid]", quote(uid, safe="")).replace("[key]", quote(key, safe=""))


def match_password_reset_confirm(path: str, pattern: str | None = None) -> tuple[str, str] | None:
    """`(uid, key)` when `path` is a `PASSWORD_RESET_CONFIRM_URL` (or `pattern`) page,
    else None."""
    from urllib.parse import unquote

    segments = [s for s in _confirm_pattern(pattern).split("/") if s]
    parts = [s for s in path.split("/") if s]
    if len(parts) != len(segments):
        return None
    found: dict[str, str] = {}
    for want, got in zip(segments, parts, strict=True):
        if want in ("[uid]", "[key]"):
            found[want[1:-1]] = unquote(got)
        elif want != got:
            return None
    if set(found) != {"uid", "key"}:
        return None
    return found["uid"], found["key"]


def _confirm_pattern(pattern: str | None) -> str:
    if pattern is None:
        return str(auth_setting("PASSWORD_RESET_CONFIRM_URL"))
    return normalize_confirm_url(str(pattern))
