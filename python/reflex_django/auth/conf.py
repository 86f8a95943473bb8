"""`REFLEX_DJANGO_AUTH`: the settings of the canned auth pages, with their defaults.

Read on every use (cheap: one dict merge), so `override_settings` and tests see the
current values. Unknown keys, in the dict and in its `MESSAGES`, are errors: a typo
must not silently fall back to a default. What reflex-django 0.2.3 projects wrote is
accepted as is (`[token]` in the confirm URL, its `MESSAGES` keys, the older settings
`REFLEX_DJANGO_LOGIN_URL` and `REFLEX_DJANGO_SITE_ORIGIN`). Django-only: no Reflex
import here (the Django process reads these settings too).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from reflex_django.conf import setting

__all__ = [
    "DEFAULTS",
    "DEFAULT_MESSAGES",
    "LEGACY_MESSAGE_KEYS",
    "auth_setting",
    "auth_settings",
    "message",
    "normalize_confirm_url",
    "override_messages",
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
        "signin_throttled": "Too many failed sign-ins. Try again in {seconds} seconds.",
        "signup_throttled": "Too many new accounts from here. Try again later.",
        "session_unavailable": (
            "Signing in needs a Django session, and this page has none. Reload the page and try again."
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
        "username_too_short": "Use at least {min_length} characters for the username.",
        "email_required": "Enter an email address.",
        "email_invalid": "Enter a valid email address.",
        "username_taken": "That username is already taken.",
        "password_required": "Enter a password.",
        "password_mismatch": "The two passwords do not match.",
        "password_too_short": "Use at least {min_length} characters.",
        # password reset ({username}, {link}, {site} in the email)
        "reset_title": "Reset your password",
        "reset_intro": ("Enter your email address and we will send you a link to choose a new password."),
        "reset_button": "Send the link",
        "reset_sent": ("If an account uses that address, we have sent it a link to choose a new password."),
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
        # guards of event handlers and pages
        "permission_denied": "You do not have permission to do that.",
        # the session hand-off view
        "ticket_invalid": "This sign-in link is invalid or has expired. Please sign in again.",
        # model CRUD mixins
        "crud_not_found": "That item does not exist.",
        "crud_required": "This field is required.",
        "crud_bad_order": "The list cannot be ordered that way.",
    }
)

# `MESSAGES` keys of reflex-django 0.2.3, still accepted in the setting: each names the
# key that now holds that text, or None for a text nothing shows any more
# (`email_taken`: registration does not tell whether an address is in use).
LEGACY_MESSAGE_KEYS: Mapping[str, str | None] = MappingProxyType(
    {
        "reset_email_sent": "reset_sent",
        "reset_success": "reset_done",
        "reset_invalid_link": "reset_link_invalid",
        "email_taken": None,
        "registration_success": None,
    }
)

# LOGOUT_REDIRECT_URL and SIGNUP_REDIRECT_URL default to LOGIN_URL, and
# REDIRECT_AUTHENTICATED_USER to LOGIN_REDIRECT_URL, when the dict does not set them
# (the values below are what that gives with nothing set).
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
        "USERNAME_MIN_LENGTH": 1,
        "PASSWORD_MIN_LENGTH": 8,
        "MESSAGES": DEFAULT_MESSAGES,
        # The origin (`https://example.com`) reset links point at. Never taken from
        # the request's Host header, which the client controls. Unset: the older
        # setting REFLEX_DJANGO_SITE_ORIGIN.
        "SITE_ORIGIN": None,
        # Seconds a session hand-off ticket stays valid.
        "TICKET_MAX_AGE": 30,
        # Failed sign-ins allowed per username, and per client address, within
        # SIGNIN_WINDOW seconds; then attempts wait, doubling up to SIGNIN_MAX_LOCKOUT
        # (reflex_django.auth.throttle). 0 turns a limit off.
        "SIGNIN_ATTEMPTS": 5,
        "SIGNIN_ATTEMPTS_PER_ADDRESS": 20,
        "SIGNIN_WINDOW": 60,
        "SIGNIN_MAX_LOCKOUT": 900,
        # Password reset mails per address, and reset requests per client address,
        # within RESET_WINDOW seconds; past them the answer is the same, no mail goes.
        "RESET_ATTEMPTS": 3,
        "RESET_ATTEMPTS_PER_CLIENT": 10,
        "RESET_WINDOW": 3600,
        # Sign-up attempts one client address may make per hour (0: no limit).
        "SIGNUP_ATTEMPTS_PER_CLIENT": 10,
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
    for key, default_from in _DERIVED_DEFAULTS.items():
        if key not in raw:
            merged[key] = merged[default_from]
    if "SITE_ORIGIN" not in raw:
        merged["SITE_ORIGIN"] = setting("REFLEX_DJANGO_SITE_ORIGIN", None) or None
    messages = raw.get("MESSAGES") or {}
    if not isinstance(messages, Mapping):
        raise ImproperlyConfigured("REFLEX_DJANGO_AUTH['MESSAGES'] must be a dict")
    _refuse_unknown(messages, DEFAULT_MESSAGES, "REFLEX_DJANGO_AUTH['MESSAGES']", also=LEGACY_MESSAGE_KEYS)
    merged["MESSAGES"] = MappingProxyType({**DEFAULT_MESSAGES, **_current_keys(messages)})
    # 0.2.3 wrote `[token]`, a name Reflex reserves; `[key]` matches the same paths.
    confirm_url = merged["PASSWORD_RESET_CONFIRM_URL"]
    if isinstance(confirm_url, str):
        merged["PASSWORD_RESET_CONFIRM_URL"] = normalize_confirm_url(confirm_url)
    for key in _URL_KEYS:
        value = merged[key]
        if value is None and key == "REDIRECT_AUTHENTICATED_USER":
            continue
        if not isinstance(value, str) or not value.startswith("/") or value.startswith(("//", "/\\")):
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
    for key in ("USERNAME_MIN_LENGTH", "PASSWORD_MIN_LENGTH", "TICKET_MAX_AGE"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ImproperlyConfigured(f"REFLEX_DJANGO_AUTH[{key!r}] must be a positive whole number, not {value!r}")
    if merged["SITE_ORIGIN"] is not None:
        merged["SITE_ORIGIN"] = _origin(merged["SITE_ORIGIN"])
    return MappingProxyType(merged)


def auth_setting(name: str) -> Any:
    """One value of `auth_settings()`."""
    return auth_settings()[name]


def message(key: str, **fields: Any) -> str:
    """The user-facing text `key` of `MESSAGES` (or of `override_messages`), formatted
    with `fields`. A text without those fields, or with stray braces, is used as is."""
    override = _MESSAGE_OVERRIDES.get()
    text = str(override[key] if override and key in override else auth_settings()["MESSAGES"][key])
    if not fields:
        return text
    try:
        return text.format(**fields)
    except (KeyError, IndexError, ValueError):
        return text


_MESSAGE_OVERRIDES: ContextVar[Mapping[str, str] | None] = ContextVar("reflex_django_auth_messages", default=None)


@contextmanager
def override_messages(messages: Mapping[str, Any] | None) -> Iterator[None]:
    """Within the block (and in `sync_to_async` calls made from it), `message()` takes
    these texts first. Keys of 0.2.3 (`LEGACY_MESSAGE_KEYS`) are translated; unknown
    keys and non-text values are ignored. `None` changes nothing."""
    if not messages:
        yield
        return
    texts = {k: v for k, v in messages.items() if isinstance(k, str) and isinstance(v, str)}
    given = {k: v for k, v in _current_keys(texts).items() if k in DEFAULT_MESSAGES}
    token = _MESSAGE_OVERRIDES.set({**(_MESSAGE_OVERRIDES.get() or {}), **given})
    try:
        yield
    finally:
        _MESSAGE_OVERRIDES.reset(token)


def normalize_confirm_url(url: str) -> str:
    """`PASSWORD_RESET_CONFIRM_URL` with the 0.2.3 argument `[token]` renamed `[key]`."""
    return url.replace("[token]", "[key]") if "[key]" not in url else url


def site_origin() -> str | None:
    """`SITE_ORIGIN` without a trailing slash, or None when it is not configured."""
    origin: str | None = auth_settings()["SITE_ORIGIN"]
    return origin


_DERIVED_DEFAULTS = {
    "LOGOUT_REDIRECT_URL": "LOGIN_URL",
    "SIGNUP_REDIRECT_URL": "LOGIN_URL",
    "REDIRECT_AUTHENTICATED_USER": "LOGIN_REDIRECT_URL",
}


def _current_keys(messages: Mapping[str, Any]) -> dict[str, Any]:
    """`messages` with 0.2.3 keys moved to the keys that hold those texts now (a current
    key given too wins) and texts nothing shows dropped."""
    out = {k: v for k, v in messages.items() if k not in LEGACY_MESSAGE_KEYS}
    for old, new in LEGACY_MESSAGE_KEYS.items():
        if new is not None and old in messages and new not in messages:
            out[new] = messages[old]
    return out


def _refuse_unknown(
    given: Mapping[str, Any],
    known: Mapping[str, Any],
    where: str,
    also: Mapping[str, Any] | None = None,
) -> None:
    """Unknown keys are errors; `also` lists keys accepted without being advertised."""
    unknown = sorted(str(k) for k in given if k not in known and k not in (also or {}))
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
        raise ImproperlyConfigured(f"REFLEX_DJANGO_AUTH['SITE_ORIGIN'] must not have a query or fragment: {value!r}")
    return f"{parts.scheme}://{parts.netloc}"
