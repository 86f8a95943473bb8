"""`REFLEX_DJANGO_AUTH`: the settings of the canned auth pages, with their defaults.

Read on every use (cheap: one dict merge), so `override_settings` and tests see the
current values. Unknown keys, in the dict and in its `MESSAGES`, are errors: a typo
must not silently fall back to a default. Django-only: no Reflex import here (the
Django process reads these settings too).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from reflex_django.conf import setting

__all__ = [
    "DEFAULTS",
    "DEFAULT_MESSAGES",
    "auth_setting",
    "auth_settings",
    "message",
    "site_origin",
]

# Every user-facing text of the pages, the handlers and the hand-off view.
# `str.format` fields in braces are filled in where noted.
DEFAULT_MESSAGES: Mapping[str, str] = MappingProxyType(
    {
        # sign in
        "login_title": "Sign in",
        "login_button": "Sign in",
        "username_label": "Username",
        "password_label": "Password",
        "invalid_credentials": "Please enter a correct username and password.",
        "session_unavailable": (
            "Signing in needs a Django session, and this page has none. Reload the page "
            "and try again."
        ),
        "signup_link": "No account yet? Sign up",
        "forgot_password_link": "Forgot your password?",
        "logout_button": "Sign out",
        # sign up
        "signup_title": "Create an account",
        "signup_button": "Sign up",
        "email_label": "Email",
        "password_confirm_label": "Password (again)",
        "login_link": "Already have an account? Sign in",
        "username_required": "Enter a username.",
        "email_required": "Enter an email address.",
        "email_invalid": "Enter a valid email address.",
        "username_taken": "That username is already taken.",
        "password_required": "Enter a password.",
        "password_mismatch": "The two passwords do not match.",
        "password_too_short": "Use at least {min_length} characters.",
        # password reset ({username}, {link}, {site} in the email)
        "reset_title": "Reset your password",
        "reset_intro": (
            "Enter your email address and we will send you a link to choose a new password."
        ),
        "reset_button": "Send the link",
        "reset_sent": (
            "If an account uses that address, we have sent it a link to choose a new password."
        ),
        "reset_send_failed": "We could not send the email. Please try again later.",
        "reset_unavailable": "Password reset is not available on this site.",
        "reset_email_subject": "Reset your password on {site}",
        "reset_email_body": (
            "Hello {username},\n\n"
            "Someone asked to reset the password of your account on {site}. To choose a "
            "new password, open this link:\n\n{link}\n\n"
            "If it was not you, ignore this email; your password stays as it is.\n"
        ),
        "reset_confirm_title": "Choose a new password",
        "new_password_label": "New password",
        "reset_confirm_button": "Change my password",
        "reset_link_invalid": "This link is invalid or has already been used. Ask for a new one.",
        "reset_done": "Your password has been changed. You can sign in now.",
        # the session hand-off view
        "ticket_invalid": "This sign-in link is invalid or has expired. Please sign in again.",
        # model CRUD mixins
        "crud_not_found": "That item does not exist.",
        "crud_required": "This field is required.",
    }
)

DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {
        "ENABLED": True,
        "SIGNUP_ENABLED": True,
        "PASSWORD_RESET_ENABLED": True,
        "LOGIN_URL": "/login",
        "SIGNUP_URL": "/register",
        "PASSWORD_RESET_URL": "/password-reset",
        # `[key]`, not `[token]`: Reflex reserves the name `token`.
        "PASSWORD_RESET_CONFIRM_URL": "/password-reset/confirm/[uid]/[key]",
        "LOGIN_REDIRECT_URL": "/",
        "LOGOUT_REDIRECT_URL": "/login",
        "SIGNUP_REDIRECT_URL": "/login",
        "REDIRECT_AUTHENTICATED_USER": "/",
        "EMAIL_REQUIRED": False,
        "PASSWORD_MIN_LENGTH": 8,
        "MESSAGES": DEFAULT_MESSAGES,
        # The origin (`https://example.com`) reset links point at. Never taken from
        # the request's Host header, which the client controls.
        "SITE_ORIGIN": None,
        # Seconds a session hand-off ticket stays valid.
        "TICKET_MAX_AGE": 30,
    }
)

_URL_KEYS = (
    "LOGIN_URL",
    "SIGNUP_URL",
    "PASSWORD_RESET_URL",
    "PASSWORD_RESET_CONFIRM_URL",
    "LOGIN_REDIRECT_URL",
    "LOGOUT_REDIRECT_URL",
    "SIGNUP_REDIRECT_URL",
    "REDIRECT_AUTHENTICATED_USER",
)


def auth_settings() -> Mapping[str, Any]:
    """`REFLEX_DJANGO_AUTH` merged over `DEFAULTS` (and `MESSAGES` over
    `DEFAULT_MESSAGES`), checked. Raises `ImproperlyConfigured` for unknown keys
    and values of the wrong kind."""
    raw = setting("REFLEX_DJANGO_AUTH", None) or {}
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured(f"REFLEX_DJANGO_AUTH must be a dict, not {type(raw).__name__}")
    _refuse_unknown(raw, DEFAULTS, "REFLEX_DJANGO_AUTH")
    merged = {**DEFAULTS, **raw}
    if "LOGIN_URL" not in raw:
        merged["LOGIN_URL"] = setting("REFLEX_DJANGO_LOGIN_URL", None) or DEFAULTS["LOGIN_URL"]
    messages = raw.get("MESSAGES") or {}
    if not isinstance(messages, Mapping):
        raise ImproperlyConfigured("REFLEX_DJANGO_AUTH['MESSAGES'] must be a dict")
    _refuse_unknown(messages, DEFAULT_MESSAGES, "REFLEX_DJANGO_AUTH['MESSAGES']")
    merged["MESSAGES"] = MappingProxyType({**DEFAULT_MESSAGES, **messages})
    for key in _URL_KEYS:
        value = merged[key]
        if value is None and key == "REDIRECT_AUTHENTICATED_USER":
            continue
        if (
            not isinstance(value, str)
            or not value.startswith("/")
            or value.startswith(("//", "/\\"))
        ):
            raise ImproperlyConfigured(
                f"REFLEX_DJANGO_AUTH[{key!r}] must be a path on this site such as "
                f"'/login'{' (or None)' if key == 'REDIRECT_AUTHENTICATED_USER' else ''}, "
                f"not {value!r}"
            )
    confirm = merged["PASSWORD_RESET_CONFIRM_URL"]
    if "[uid]" not in confirm or "[key]" not in confirm:
        raise ImproperlyConfigured(
            "REFLEX_DJANGO_AUTH['PASSWORD_RESET_CONFIRM_URL'] must contain the route "
            "arguments [uid] and [key], e.g. '/password-reset/confirm/[uid]/[key]', "
            f"not {confirm!r}"
        )
    for key in ("PASSWORD_MIN_LENGTH", "TICKET_MAX_AGE"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ImproperlyConfigured(
                f"REFLEX_DJANGO_AUTH[{key!r}] must be a positive whole number, not {value!r}"
            )
    if merged["SITE_ORIGIN"] is not None:
        merged["SITE_ORIGIN"] = _origin(merged["SITE_ORIGIN"])
    return MappingProxyType(merged)


def auth_setting(name: str) -> Any:
    """One value of `auth_settings()`."""
    return auth_settings()[name]


def message(key: str, **fields: Any) -> str:
    """The user-facing text `key` of `MESSAGES`, formatted with `fields`."""
    text = str(auth_settings()["MESSAGES"][key])
    return text.format(**fields) if fields else text


def site_origin() -> str | None:
    """`SITE_ORIGIN` without a trailing slash, or None when it is not configured."""
    return auth_settings()["SITE_ORIGIN"]


def _refuse_unknown(given: Mapping[str, Any], known: Mapping[str, Any], where: str) -> None:
    unknown = sorted(str(k) for k in given if k not in known)
    if unknown:
        raise ImproperlyConfigured(
            f"{where}: unknown key{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(k) for k in unknown)}; valid keys are {', '.join(sorted(known))}"
        )


def _origin(value: Any) -> str:
    parts = urlsplit(str(value).strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ImproperlyConfigured(
            "REFLEX_DJANGO_AUTH['SITE_ORIGIN'] must be an origin such as "
            f"'https://example.com' (scheme and host, no path), not {value!r}"
        )
    if parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"REFLEX_DJANGO_AUTH['SITE_ORIGIN'] must not have a query or fragment: {value!r}"
        )
    return f"{parts.scheme}://{parts.netloc}"
