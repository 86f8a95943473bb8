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
  user, sign in, then `SIGNUP_REDIRECT_URL`.
- `on_load_password_reset`, `submit_password_reset_form` (`email`): send the link.
- `on_load_password_reset_confirm`, `submit_password_reset_confirm_form`
  (`password1`, `password2`): check the link from the page's path, set the password.
- `require_login`: for `login_required` pages; anonymous users go to
  `LOGIN_URL?next=<page>`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import reflex as rx
from asgiref.sync import sync_to_async

from reflex_django.auth import accounts
from reflex_django.auth.conf import auth_setting, message
from reflex_django.auth.routes import match_password_reset_confirm
from reflex_django.auth_state import DjangoUserState
from reflex_django.context import current_request
from reflex_django.mixins.session_auth import (
    SessionAuthConfig,
    hand_off,
    session_auth_members,
)

__all__ = ["DjangoAuthState"]

_SESSION = SessionAuthConfig(
    username_var="login_username",
    password_var="login_password",
    error_var="login_error",
    state_class_name="DjangoAuthState",
)


class DjangoAuthState(session_auth_members(_SESSION), DjangoUserState):  # type: ignore[misc]
    """Sign in, sign up, sign out and password reset with Django (see the module doc)."""

    register_error: str = ""
    reset_error: str = ""
    reset_sent: bool = False
    reset_link_valid: bool = False
    reset_confirm_error: str = ""
    reset_done: bool = False

    # Redirects and texts of the session members come from REFLEX_DJANGO_AUTH.
    def _post_login_redirect(self) -> str:
        return str(auth_setting("LOGIN_REDIRECT_URL"))

    def _post_logout_redirect(self) -> str:
        return str(auth_setting("LOGOUT_REDIRECT_URL"))

    def _redirect_when_authenticated(self) -> str | None:
        return auth_setting("REDIRECT_AUTHENTICATED_USER")

    def _session_auth_message(self, key: str) -> str:
        return message(key)

    @rx.event
    async def on_load_register(self) -> Any:
        self.register_error = ""
        return await self.on_load_login()

    @rx.event
    async def submit_register_form(self, form_data: dict[str, Any]) -> Any:
        from django.contrib.auth import aauthenticate

        if not auth_setting("SIGNUP_ENABLED"):
            return rx.redirect(auth_setting("LOGIN_URL"))
        request = current_request()
        if request is None or getattr(request, "session", None) is None:
            self.register_error = message("session_unavailable")
            return None
        username = str(form_data.get("username") or "")
        password = str(form_data.get("password1") or "")
        user, errors = await sync_to_async(accounts.register_user)(
            username,
            str(form_data.get("email") or ""),
            password,
            str(form_data.get("password2") or ""),
        )
        if errors:
            self.register_error = " ".join(errors)
            return None
        self.register_error = ""
        # Sign the new user in through the configured backends, like a login would.
        user = await aauthenticate(request, username=user.get_username(), password=password)
        if user is None:
            return rx.redirect(auth_setting("LOGIN_URL"))
        return await hand_off(
            self,
            "login",
            auth_setting("SIGNUP_REDIRECT_URL"),
            user=user,
            error_var="register_error",
        )

    @rx.event
    def on_load_password_reset(self) -> None:
        self.reset_error = ""
        self.reset_sent = False

    @rx.event
    async def submit_password_reset_form(self, form_data: dict[str, Any]) -> None:
        if not auth_setting("PASSWORD_RESET_ENABLED"):
            self.reset_error = message("reset_unavailable")
            return
        errors = await sync_to_async(accounts.send_password_reset)(
            str(form_data.get("email") or "")
        )
        self.reset_error = " ".join(errors)
        self.reset_sent = not errors

    @rx.event
    async def on_load_password_reset_confirm(self) -> None:
        self.reset_confirm_error = ""
        self.reset_done = False
        link = _reset_link()
        user = await sync_to_async(accounts.check_reset_link)(*link) if link else None
        self.reset_link_valid = user is not None
        if user is None:
            self.reset_confirm_error = message("reset_link_invalid")

    @rx.event
    async def submit_password_reset_confirm_form(self, form_data: dict[str, Any]) -> None:
        link = _reset_link()
        if link is None or not auth_setting("PASSWORD_RESET_ENABLED"):
            self.reset_link_valid = False
            self.reset_confirm_error = message("reset_link_invalid")
            return
        errors = await sync_to_async(accounts.reset_password)(
            *link,
            str(form_data.get("password1") or ""),
            str(form_data.get("password2") or ""),
        )
        self.reset_confirm_error = " ".join(errors)
        self.reset_done = not errors
        if self.reset_done:
            self.reset_link_valid = False

    @rx.event
    async def require_login(self) -> Any:
        """For `login_required` pages: refresh the user; send anonymous users to the
        login page, with this page as `next`."""
        await self.refresh_django_user_fields()
        if self.is_authenticated:
            return None
        request = current_request()
        here = request.get_full_path() if request is not None else "/"
        return rx.redirect(f"{auth_setting('LOGIN_URL')}?{urlencode({'next': here})}")


def _reset_link() -> tuple[str, str] | None:
    request = current_request()
    return match_password_reset_confirm(request.path) if request is not None else None
