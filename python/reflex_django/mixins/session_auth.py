"""`session_auth_mixin`: a Reflex state that signs users in and out with Django sessions.

The generated state authenticates with Django's `aauthenticate()` inside the event,
then hands the session to the browser through the hand-off view
(`reflex_django.handoff`): the page navigates to `/_reflex_django/session/?ticket=…`,
Django logs the user in and sets the HttpOnly session cookie, and redirects to the
target page, which reconnects its WebSocket with the new cookie.

reflex-django 0.2.3 instead wrote the session key into a cookie from JavaScript, which
cannot be HttpOnly; the hand-off keeps the cookie out of reach of page scripts. The
configuration, the generated names and `populate_session_auth_state` are 0.2.3's.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, fields
from typing import Any

import reflex as rx
from django.core.exceptions import ImproperlyConfigured

from reflex_django.auth_state import DjangoUserState
from reflex_django.context import current_request, current_user
from reflex_django.mixins._build import (
    caller_module,
    check_names,
    full_page_navigation,
    make_mixin,
    make_state,
    populate,
)

__all__ = [
    "SessionAuthConfig",
    "populate_session_auth_state",
    "session_auth_members",
    "session_auth_mixin",
]

logger = logging.getLogger(__name__)


class _DefaultText(str):
    """A default message of `SessionAuthConfig`: equal to the text of reflex-django
    0.2.3, but recognisable, so the project's `REFLEX_DJANGO_AUTH["MESSAGES"]` is shown
    instead unless the field was set explicitly."""

    __slots__ = ()


@dataclass(frozen=True)
class SessionAuthConfig:
    """What `session_auth_mixin` generates. Names are state vars and event handlers.

    The fields, their order and their defaults are those of reflex-django 0.2.3.
    """

    username_var: str = "login_username"
    password_var: str = "login_password"
    error_var: str = "login_error"
    on_load_event: str = "on_load_login"
    submit_event: str = "submit_login"
    logout_event: str = "logout"
    # Where to go after signing in, unless the page has a local `?next=`.
    post_login_redirect: str = "/"
    post_logout_redirect: str = "/login"
    # Signed-in users who open the page go there (None: stay).
    redirect_when_authenticated: str | None = None
    # Left at their defaults, the texts of REFLEX_DJANGO_AUTH["MESSAGES"]
    # ("session_unavailable", "invalid_credentials") are shown; None too.
    session_unavailable_message: str | None = _DefaultText("Session unavailable. Reload the page.")
    invalid_credentials_message: str | None = _DefaultText("Invalid username or password.")
    state_class_name: str = "SessionAuthState"
    # Signs in from `rx.form(on_submit=...)`'s form_data; None leaves it out.
    submit_form_event: str | None = "submit_login_form"
    form_username_key: str = "username"
    form_password_key: str = "password"

    def __post_init__(self) -> None:
        names = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name.endswith(("_var", "_event")) and getattr(self, f.name) is not None
        }
        names.update({f"set_{k}": f"set_{getattr(self, k)}" for k in ("username_var", "password_var")})
        check_names("SessionAuthConfig", names)
        for name in ("post_login_redirect", "post_logout_redirect", "redirect_when_authenticated"):
            value = getattr(self, name)
            if value is not None and (not value.startswith("/") or value.startswith("//")):
                raise ValueError(
                    f"SessionAuthConfig.{name}={value!r} must be a local path; "
                    "hint: start it with a single `/`, e.g. `/login`"
                )


def session_auth_mixin(
    cfg: SessionAuthConfig,
    base: type[rx.State] = DjangoUserState,
    state_module: str | None = None,
) -> type[rx.State]:
    """A state class named `cfg.state_class_name`, subclass of `base`, with:

    - vars `cfg.username_var`, `cfg.password_var`, `cfg.error_var` and their setters
      `set_<var>`;
    - `cfg.on_load_event`: refresh the user snapshot; signed-in users go to
      `?next=` or `cfg.redirect_when_authenticated` (when set);
    - `cfg.submit_event` (from the vars) and `cfg.submit_form_event` (from
      `form_data`): sign in, then load `?next=` or `cfg.post_login_redirect`;
    - `cfg.logout_event`: sign out, then load `cfg.post_logout_redirect`.

    `base` is any `rx.State` subclass; with `DjangoUserState` (the default) or a
    subclass of it, the handlers also refresh its user snapshot.

    The class is set as an attribute of `state_module` (default: the caller's module)
    so Reflex can pickle its instances. Subclass it for an app-specific name.
    """
    if not (isinstance(base, type) and issubclass(base, rx.State)):
        raise TypeError(f"session_auth_mixin(base=...) must be an rx.State subclass, not {base!r}")
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
    state_fields, members = _session_auth_parts(cfg)
    return make_mixin(f"{cfg.state_class_name}Members", state_fields, members)


def populate_session_auth_state(
    ns: dict[str, Any],
    cfg: SessionAuthConfig,
    *,
    cls_name: str,
    annotations: dict[str, Any],
) -> None:
    """Put the vars and handlers of `session_auth_mixin` into a class namespace being
    built by hand: defaults into `ns`, var types into `annotations` (the dict that
    becomes `ns["__annotations__"]`), handlers into `ns` named for `cls_name`.

    For a flat state (one class instead of a generated parent)::

        def body(ns):
            annotations = {}
            populate_session_auth_state(ns, cfg, cls_name="Login", annotations=annotations)
            ns["__annotations__"] = annotations
        Login = types.new_class("Login", (DjangoUserState,), {}, body)
    """
    state_fields, members = _session_auth_parts(cfg)
    populate(ns, annotations, cls_name, state_fields, members)


def _session_auth_parts(
    cfg: SessionAuthConfig,
) -> tuple[dict[str, tuple[Any, Any]], dict[str, Any]]:
    """The vars (`name: (type, default)`) and methods the session-auth state gets."""
    user_var, password_var, error_var = cfg.username_var, cfg.password_var, cfg.error_var

    async def on_load(self: Any) -> Any:
        setattr(self, error_var, "")
        setattr(self, password_var, "")
        await refresh_user_snapshot(self)
        if current_user().is_authenticated:
            target = next_path() or self._redirect_when_authenticated()
            if target:
                return rx.redirect(target)
        return None

    async def submit(self: Any) -> Any:
        username, password = getattr(self, user_var), getattr(self, password_var)
        setattr(self, password_var, "")
        return await sign_in(self, str(username or "").strip(), str(password or ""))

    async def submit_form(self: Any, form_data: dict[str, Any]) -> Any:
        username = str(form_data.get(cfg.form_username_key) or "").strip()
        setattr(self, user_var, username)
        setattr(self, password_var, "")
        return await sign_in(self, username, str(form_data.get(cfg.form_password_key) or ""))

    async def sign_in(self: Any, username: str, password: str) -> Any:
        from reflex_django.auth import throttle

        request = current_request()
        if request is None or getattr(request, "session", None) is None:
            setattr(self, error_var, self._session_auth_message("session_unavailable"))
            return None
        user, wait = await throttle.authenticate(request, username, password)
        if wait:
            setattr(self, error_var, self._session_auth_message("signin_throttled").format(seconds=wait))
            return None
        if user is None:
            setattr(self, error_var, self._session_auth_message("invalid_credentials"))
            return None
        setattr(self, error_var, "")
        target = next_path() or self._post_login_redirect()
        return await hand_off(self, "login", target, user=user, error_var=error_var)

    async def logout(self: Any) -> Any:
        from django.contrib.auth import alogout

        request = current_request()
        if request is not None and getattr(request, "session", None) is not None:
            # Ends the session on the server at once; the hand-off clears the cookie.
            await alogout(request)
        await refresh_user_snapshot(self)
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
        if given is not None and not isinstance(given, _DefaultText):
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
    state_fields = {user_var: (str, ""), password_var: (str, ""), error_var: (str, "")}
    return state_fields, members


async def refresh_user_snapshot(state: Any) -> None:
    """Refresh the user snapshot when the state has one (a `DjangoUserState`)."""
    refresh = getattr(state, "refresh_django_user_fields", None)
    if callable(refresh):
        await refresh()


async def hand_off(state: Any, op: str, next_url: str, *, user: Any = None, error_var: str | None = None) -> Any:
    """Finish a sign-in or sign-out: stage it and send the browser to the hand-off
    view (see `reflex_django.handoff`). Without a session, or with a session store
    the other process cannot read (`signed_cookies`), an error lands in the state's
    error var instead."""
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


def next_path() -> str | None:
    """The page's `?next=` when it is a local path."""
    from reflex_django.handoff import safe_local_path

    request = current_request()
    return safe_local_path(request.GET.get("next")) if request is not None else None
