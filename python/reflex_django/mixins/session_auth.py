"""`session_auth_mixin`: a Reflex state that signs users in and out with Django sessions.

The generated state authenticates with Django's `aauthenticate()` inside the event,
then hands the session to the browser through the hand-off view
(`reflex_django.handoff`): the page navigates to `/_reflex_django/session/?ticket=…`,
Django logs the user in and sets the HttpOnly session cookie, and redirects to the
target page, which reconnects its WebSocket with the new cookie.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, fields
from typing import Any

import reflex as rx
from django.core.exceptions import ImproperlyConfigured

from reflex_django.auth_state import DjangoUserState
from reflex_django.context import current_request
from reflex_django.mixins._build import (
    caller_module,
    check_names,
    full_page_navigation,
    make_mixin,
    make_state,
)

__all__ = ["SessionAuthConfig", "session_auth_members", "session_auth_mixin"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionAuthConfig:
    """What `session_auth_mixin` generates. Names are state vars and event handlers."""

    username_var: str = "login_username"
    password_var: str = "login_password"
    error_var: str = "login_error"
    on_load_event: str = "on_load_login"
    submit_event: str = "submit_login"
    # Signs in from `rx.form(on_submit=...)`'s form_data; None leaves it out.
    submit_form_event: str | None = "submit_login_form"
    logout_event: str = "logout"
    # Where to go after signing in, unless the page has a local `?next=`.
    post_login_redirect: str = "/"
    post_logout_redirect: str = "/login"
    # Signed-in users who open the page go there (None: stay).
    redirect_when_authenticated: str | None = None
    form_username_key: str = "username"
    form_password_key: str = "password"
    # None: the text of REFLEX_DJANGO_AUTH["MESSAGES"] ("session_unavailable",
    # "invalid_credentials").
    session_unavailable_message: str | None = None
    invalid_credentials_message: str | None = None
    state_class_name: str = "SessionAuthState"

    def __post_init__(self) -> None:
        names = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name.endswith(("_var", "_event")) and getattr(self, f.name) is not None
        }
        names.update(
            {f"set_{k}": f"set_{getattr(self, k)}" for k in ("username_var", "password_var")}
        )
        check_names("SessionAuthConfig", names)
        for name in ("post_login_redirect", "post_logout_redirect", "redirect_when_authenticated"):
            value = getattr(self, name)
            if value is not None and (not value.startswith("/") or value.startswith("//")):
                raise ValueError(f"SessionAuthConfig.{name}={value!r} must be a local path")


def session_auth_mixin(
    cfg: SessionAuthConfig,
    base: type[rx.State] = DjangoUserState,
    state_module: str | None = None,
) -> type[rx.State]:
    """A state class named `cfg.state_class_name`, subclass of `base` (which must be
    `DjangoUserState` or a subclass), with:

    - vars `cfg.username_var`, `cfg.password_var`, `cfg.error_var` and their setters
      `set_<var>`;
    - `cfg.on_load_event`: refresh the user snapshot; signed-in users go to
      `?next=` or `cfg.redirect_when_authenticated` (when set);
    - `cfg.submit_event` (from the vars) and `cfg.submit_form_event` (from
      `form_data`): sign in, then load `?next=` or `cfg.post_login_redirect`;
    - `cfg.logout_event`: sign out, then load `cfg.post_logout_redirect`.

    The class is set as an attribute of `state_module` (default: the caller's module)
    so Reflex can pickle its instances. Subclass it for an app-specific name.
    """
    if not (isinstance(base, type) and issubclass(base, DjangoUserState)):
        raise TypeError(
            "session_auth_mixin(base=...) must be DjangoUserState or a subclass of it "
            "(the generated handlers refresh its user snapshot)"
        )
    module = state_module or caller_module(inspect.currentframe().f_back)  # type: ignore[union-attr]
    return make_state(
        cfg.state_class_name,
        (session_auth_members(cfg), base),
        module,
        f"Session sign-in and sign-out, generated from {cfg!r}.",
    )


def session_auth_members(cfg: SessionAuthConfig) -> type:
    """The vars and handlers of `session_auth_mixin` as a Reflex mixin state, for
    combining with other mixins. The redirects and messages are read through the
    methods `_post_login_redirect()`, `_post_logout_redirect()`,
    `_redirect_when_authenticated()` and `_session_auth_message(key)`, which a state
    may override."""
    user_var, password_var, error_var = cfg.username_var, cfg.password_var, cfg.error_var

    async def on_load(self: Any) -> Any:
        setattr(self, error_var, "")
        setattr(self, password_var, "")
        await self.refresh_django_user_fields()
        if self.is_authenticated:
            target = _next_path() or self._redirect_when_authenticated()
            if target:
                return rx.redirect(target)
        return None

    async def submit(self: Any) -> Any:
        username, password = getattr(self, user_var), getattr(self, password_var)
        setattr(self, password_var, "")
        return await sign_in(self, username, password)

    async def submit_form(self: Any, form_data: dict[str, Any]) -> Any:
        return await sign_in(
            self,
            str(form_data.get(cfg.form_username_key) or ""),
            str(form_data.get(cfg.form_password_key) or ""),
        )

    async def sign_in(self: Any, username: str, password: str) -> Any:
        from django.contrib.auth import aauthenticate

        request = current_request()
        if request is None or getattr(request, "session", None) is None:
            setattr(self, error_var, self._session_auth_message("session_unavailable"))
            return None
        user = await aauthenticate(request, username=username, password=password)
        if user is None:
            setattr(self, error_var, self._session_auth_message("invalid_credentials"))
            return None
        setattr(self, error_var, "")
        target = _next_path() or self._post_login_redirect()
        return await hand_off(self, "login", target, user=user, error_var=error_var)

    async def logout(self: Any) -> Any:
        from django.contrib.auth import alogout

        request = current_request()
        if request is not None and getattr(request, "session", None) is not None:
            # Ends the session on the server at once; the hand-off clears the cookie.
            await alogout(request)
        await self.refresh_django_user_fields()
        return await hand_off(self, "logout", self._post_logout_redirect(), error_var=error_var)

    def set_user(self: Any, value: str) -> None:
        setattr(self, user_var, value)

    def set_password(self: Any, value: str) -> None:
        setattr(self, password_var, value)

    def post_login_redirect(self: Any) -> str:
        return cfg.post_login_redirect

    def post_logout_redirect(self: Any) -> str:
        return cfg.post_logout_redirect

    def redirect_when_authenticated(self: Any) -> str | None:
        return cfg.redirect_when_authenticated

    def session_auth_message(self: Any, key: str) -> str:
        given = {
            "session_unavailable": cfg.session_unavailable_message,
            "invalid_credentials": cfg.invalid_credentials_message,
        }.get(key)
        if given is not None:
            return given
        from reflex_django.auth.conf import message

        return message(key)

    members: dict[str, Any] = {
        cfg.on_load_event: on_load,
        cfg.submit_event: submit,
        cfg.logout_event: logout,
        f"set_{user_var}": set_user,
        f"set_{password_var}": set_password,
        "_post_login_redirect": post_login_redirect,
        "_post_logout_redirect": post_logout_redirect,
        "_redirect_when_authenticated": redirect_when_authenticated,
        "_session_auth_message": session_auth_message,
    }
    if cfg.submit_form_event:
        members[cfg.submit_form_event] = submit_form
    return make_mixin(
        f"{cfg.state_class_name}Members",
        {user_var: (str, ""), password_var: (str, ""), error_var: (str, "")},
        members,
    )


async def hand_off(
    state: Any, op: str, next_url: str, *, user: Any = None, error_var: str | None = None
) -> Any:
    """Finish a sign-in or sign-out: stage it and send the browser to the hand-off
    view (see `reflex_django.handoff`). Without a session, or when the view is not
    installed, an error lands in the state's error var instead."""
    from reflex_django.handoff import aissue_ticket

    request = current_request()
    if request is None:
        return rx.redirect(next_url)
    try:
        url = await aissue_ticket(request, op, next_url, user)  # type: ignore[arg-type]
    except ImproperlyConfigured as exc:
        logger.error("%s", exc)
        if error_var:
            setattr(state, error_var, state._session_auth_message("session_unavailable"))
        return None
    return full_page_navigation(url)


def _next_path() -> str | None:
    """The page's `?next=` when it is a local path."""
    from reflex_django.handoff import safe_local_path

    request = current_request()
    return safe_local_path(request.GET.get("next")) if request is not None else None
