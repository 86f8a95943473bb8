"""`DjangoAuthState`: the state behind the canned auth pages.

Session sign-in/out (the `session_auth_mixin` members), registration and password
reset, all driven by `REFLEX_DJANGO_AUTH`. Forms submit `form_data`; the handlers
read nothing the browser could have left stale in a bound var.

Handlers (wire them to your own components when you replace the pages):

- `on_load_login`: refresh the user; signed-in users go to `?next=` or
  `REDIRECT_AUTHENTICATED_USER`. `on_load_register` does the same.
- `submit_login_form` (form keys `username`, `password`): sign in, then `?next=` or
  `LOGIN_REDIRECT_URL`. `logout`: sign out, then `LOGOUT_REDIRECT_URL`.
- `submit_register_form` (`username`, `email`, `password1`, `password2`): create the
  user, sign in, then `SIGNUP_REDIRECT_URL`. Errors in `register_error`.
- `on_load_password_reset`, `submit_password_reset_form` (`email`): send the link
  (`reset_sent`, `reset_error`).
- `on_load_password_reset_confirm`, `submit_password_reset_confirm_form`
  (`password1`, `password2`): check the link from the page's path, set the password
  (`reset_link_valid`, `reset_done`, `reset_confirm_error`).
- `require_login`: for `login_required` pages; anonymous users go to
  `LOGIN_URL?next=<page>`.

The names of reflex-django 0.2.3 work too, for pages written against it:
`handle_registration` (`username`, `email`, `password`, `confirm_password`) with
`registration_error` / `registration_success`; `submit_password_reset_request`
(`email`) with `reset_email_sent` / `reset_error`; `submit_password_reset_confirm`
(`new_password`, `confirm_password`) with `reset_success` / `reset_error`, then
`LOGIN_URL`; `redirect_to_login` (= `require_login`). They come from the mixins of
`reflex_django.auth.mixins`, with their settings read from `REFLEX_DJANGO_AUTH` at
each event; `SIGNUP_ENABLED` and `PASSWORD_RESET_ENABLED` apply to them as well.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import reflex as rx
from asgiref.sync import sync_to_async

from reflex_django.auth import accounts
from reflex_django.auth.conf import auth_setting, message
from reflex_django.auth.mixins._common import (
    client_address,
    form_value,
    redirect_to_login,
    register_and_sign_in,
    reset_link,
)
from reflex_django.auth.mixins.navigation import navigation_members
from reflex_django.auth.mixins.password_reset import PasswordResetConfig, password_reset_members
from reflex_django.auth.mixins.registration import RegistrationConfig, registration_members
from reflex_django.auth.settings import get_auth_settings
from reflex_django.auth_state import DjangoUserState
from reflex_django.mixins._build import make_mixin
from reflex_django.mixins.session_auth import SessionAuthConfig, session_auth_members

__all__ = ["DjangoAuthState"]

_SESSION = SessionAuthConfig(
    username_var="login_username",
    password_var="login_password",
    error_var="login_error",
    state_class_name="DjangoAuthState",
)


def _mixin(name: str, built: tuple[dict[str, Any], dict[str, Any]], *own: str) -> type:
    """A Reflex mixin of the 0.2.3 members, without those `DjangoAuthState` defines
    itself (`own`)."""
    state_fields, members = built
    return make_mixin(name, state_fields, {k: v for k, v in members.items() if k not in own})


def _enabled(key: str) -> Callable[[], bool]:
    return lambda: bool(auth_setting(key))


# The 0.2.3 members, reading their settings from REFLEX_DJANGO_AUTH at each event.
_Registration = _mixin(
    "DjangoAuthStateRegistration",
    registration_members(
        RegistrationConfig(),
        lambda: RegistrationConfig.from_auth_settings(get_auth_settings()),
        _enabled("SIGNUP_ENABLED"),
    ),
    "on_load_register",
)
_PasswordReset = _mixin(
    "DjangoAuthStatePasswordReset",
    password_reset_members(
        PasswordResetConfig(),
        lambda: PasswordResetConfig.from_auth_settings(get_auth_settings()),
        _enabled("PASSWORD_RESET_ENABLED"),
    ),
    "on_load_password_reset_confirm",
)
_Navigation = _mixin("DjangoAuthStateNavigation", ({}, navigation_members()))


class DjangoAuthState(
    # Bases made at import time: mypy cannot see their members (nor allow them as types).
    session_auth_members(_SESSION),  # type: ignore[misc]
    _Registration,  # type: ignore[misc, valid-type]
    _PasswordReset,  # type: ignore[misc, valid-type]
    _Navigation,  # type: ignore[misc, valid-type]
    DjangoUserState,
):
    """Sign in, sign up, sign out and password reset with Django (see the module doc).

    From the 0.2.3 members: `registration_error`, `registration_success`,
    `reset_error`, `reset_success`, `reset_email_sent`, `reset_link_valid`."""

    if TYPE_CHECKING:  # vars of the bases above that the pages read
        reset_error: rx.Field[str]
        reset_link_valid: rx.Field[bool]

    register_error: str = ""
    reset_sent: bool = False
    reset_confirm_error: str = ""
    reset_done: bool = False

    # Redirects and texts of the session members come from REFLEX_DJANGO_AUTH.
    def _post_login_redirect(self) -> str:
        return str(auth_setting("LOGIN_REDIRECT_URL"))

    def _post_logout_redirect(self) -> str:
        return str(auth_setting("LOGOUT_REDIRECT_URL"))

    def _redirect_when_authenticated(self) -> str | None:
        url: str | None = auth_setting("REDIRECT_AUTHENTICATED_USER")
        return url

    def _session_auth_message(self, key: str) -> str:
        return message(key)

    @rx.event
    async def on_load_register(self) -> Any:
        self.register_error = ""
        self.registration_error = ""
        self.registration_success = False
        return await self.on_load_login()

    @rx.event
    async def submit_register_form(self, form_data: dict[str, Any]) -> Any:
        if not auth_setting("SIGNUP_ENABLED"):
            return rx.redirect(auth_setting("LOGIN_URL"))
        form = {k: form_value(form_data, k) for k in ("username", "email", "password1", "password2")}
        _, event, errors = await register_and_sign_in(self, form, auth_setting("SIGNUP_REDIRECT_URL"))
        self.register_error = " ".join(errors)
        return event

    @rx.event
    def on_load_password_reset(self) -> None:
        self.reset_error = ""
        self.reset_sent = False
        self.reset_email_sent = False

    @rx.event
    async def submit_password_reset_form(self, form_data: dict[str, Any]) -> None:
        if not auth_setting("PASSWORD_RESET_ENABLED"):
            self.reset_error = message("reset_unavailable")
            return
        errors = await sync_to_async(accounts.send_password_reset)(
            form_value(form_data, "email"), client_address=client_address()
        )
        self.reset_error = " ".join(errors)
        self.reset_sent = not errors

    @rx.event
    async def on_load_password_reset_confirm(self) -> None:
        self.reset_confirm_error = ""
        self.reset_done = False
        self.reset_success = False
        link = reset_link()
        user = await sync_to_async(accounts.check_reset_link)(*link) if link else None
        self.reset_link_valid = user is not None
        if user is None:
            self.reset_confirm_error = message("reset_link_invalid")
        # Pages written for 0.2.3 show the confirm page's error in `reset_error`.
        self.reset_error = self.reset_confirm_error

    @rx.event
    async def submit_password_reset_confirm_form(self, form_data: dict[str, Any]) -> None:
        link = reset_link()
        if link is None or not auth_setting("PASSWORD_RESET_ENABLED"):
            self.reset_link_valid = False
            self.reset_confirm_error = message("reset_link_invalid")
            return
        errors = await sync_to_async(accounts.reset_password)(
            *link, form_value(form_data, "password1"), form_value(form_data, "password2")
        )
        self.reset_confirm_error = " ".join(errors)
        self.reset_done = not errors
        if self.reset_done:
            self.reset_link_valid = False

    @rx.event
    async def require_login(self) -> Any:
        """For `login_required` pages: refresh the user; send anonymous users to the
        login page, with this page as `next`."""
        return await redirect_to_login(self)
