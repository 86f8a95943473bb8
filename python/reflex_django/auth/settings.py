"""`AuthSettings` / `get_auth_settings()`: `REFLEX_DJANGO_AUTH` as a frozen dataclass.

The attribute-style view of the settings that reflex-django 0.2.3 offered, kept for code
written against it. It is built from `reflex_django.auth.conf.auth_settings()`, so it
sees the same defaults, legacy settings and checks; new code can use either. Django
only: no Reflex import here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reflex_django.auth.conf import DEFAULT_MESSAGES, DEFAULTS, LEGACY_MESSAGE_KEYS, auth_settings

__all__ = ["AuthSettings", "get_auth_settings"]

# Texts of 0.2.3 keys that no current key holds (see LEGACY_MESSAGE_KEYS).
_UNUSED_TEXTS = {
    "email_taken": "That email address is already in use.",
    "registration_success": "Your account has been created.",
}


def _messages(current: Mapping[str, Any], given: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Every text under its current key and under its 0.2.3 key, so code reading
    either finds it. `{min_length}` in the length messages stays a placeholder."""
    texts = {key: str(value) for key, value in current.items()}
    for old, new in LEGACY_MESSAGE_KEYS.items():
        if new is not None:
            texts[old] = texts[new]
        else:
            value = (given or {}).get(old)
            texts[old] = value if isinstance(value, str) else _UNUSED_TEXTS[old]
    return texts


def _default_messages() -> dict[str, str]:
    return _messages(DEFAULT_MESSAGES)


@dataclass(frozen=True)
class AuthSettings:
    """The canned auth pages' settings; each attribute is the lower-case name of a
    `REFLEX_DJANGO_AUTH` key. Construct one to pass to `add_auth_pages(settings=...)`
    or a mixin config's `from_auth_settings`; read the project's with
    `get_auth_settings()`."""

    enabled: bool = True
    signup_enabled: bool = True
    password_reset_enabled: bool = True
    login_url: str = DEFAULTS["LOGIN_URL"]
    signup_url: str = DEFAULTS["SIGNUP_URL"]
    password_reset_url: str = DEFAULTS["PASSWORD_RESET_URL"]
    password_reset_confirm_url: str = DEFAULTS["PASSWORD_RESET_CONFIRM_URL"]
    login_redirect_url: str = DEFAULTS["LOGIN_REDIRECT_URL"]
    logout_redirect_url: str = DEFAULTS["LOGOUT_REDIRECT_URL"]
    signup_redirect_url: str = DEFAULTS["SIGNUP_REDIRECT_URL"]
    # None: signed-in users stay on the sign-in and sign-up pages.
    redirect_authenticated_user: str | None = DEFAULTS["REDIRECT_AUTHENTICATED_USER"]
    email_required: bool = False
    username_min_length: int = 1
    password_min_length: int = 8
    messages: dict[str, str] = field(default_factory=_default_messages)
    # Not in 0.2.3: where reset links point, and how long a sign-in hand-off lasts.
    site_origin: str | None = None
    ticket_max_age: int = DEFAULTS["TICKET_MAX_AGE"]


def get_auth_settings() -> AuthSettings:
    """The project's `REFLEX_DJANGO_AUTH` as an `AuthSettings`, read now (so
    `override_settings` is seen). When the dict has no `LOGIN_URL`, the older
    `REFLEX_DJANGO_LOGIN_URL` setting is used. Raises `ImproperlyConfigured` for an
    invalid dict, like every reader of the setting."""
    from reflex_django.conf import setting

    values = auth_settings()
    raw = setting("REFLEX_DJANGO_AUTH", None) or {}
    return AuthSettings(
        enabled=bool(values["ENABLED"]),
        signup_enabled=bool(values["SIGNUP_ENABLED"]),
        password_reset_enabled=bool(values["PASSWORD_RESET_ENABLED"]),
        login_url=values["LOGIN_URL"],
        signup_url=values["SIGNUP_URL"],
        password_reset_url=values["PASSWORD_RESET_URL"],
        password_reset_confirm_url=values["PASSWORD_RESET_CONFIRM_URL"],
        login_redirect_url=values["LOGIN_REDIRECT_URL"],
        logout_redirect_url=values["LOGOUT_REDIRECT_URL"],
        signup_redirect_url=values["SIGNUP_REDIRECT_URL"],
        redirect_authenticated_user=values["REDIRECT_AUTHENTICATED_USER"],
        email_required=bool(values["EMAIL_REQUIRED"]),
        username_min_length=values["USERNAME_MIN_LENGTH"],
        password_min_length=values["PASSWORD_MIN_LENGTH"],
        messages=_messages(values["MESSAGES"], raw.get("MESSAGES")),
        site_origin=values["SITE_ORIGIN"],
        ticket_max_age=values["TICKET_MAX_AGE"],
    )
