"""`password_reset_mixin`: a Reflex state for "forgot my password" (the 0.2.3 API).

    from reflex_django.auth.mixins.password_reset import (
        PasswordResetConfig, password_reset_mixin)

    class ResetState(password_reset_mixin(PasswordResetConfig(state_class_name="Reset"),
                                          base=AppState)):
        pass

    rx.form(..., on_submit=ResetState.submit_password_reset_request)        # email
    app.add_page(confirm, route="/password-reset/confirm/[uid]/[key]",
                 on_load=ResetState.on_load_password_reset_confirm)
    rx.form(..., on_submit=ResetState.submit_password_reset_confirm)  # new_password,
                                                                       # confirm_password

Links are made with Django's `default_token_generator` and point at
`REFLEX_DJANGO_AUTH["SITE_ORIGIN"]` (never at the request's Host header); the answer to
a request is the same whether or not the address belongs to an account. The work is
done by `reflex_django.auth.accounts`. `base` may be any `rx.State` subclass.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import reflex as rx
from asgiref.sync import sync_to_async

from reflex_django.auth import accounts
from reflex_django.auth.conf import DEFAULTS, message, override_messages
from reflex_django.auth.mixins._common import (
    Fields,
    build_state,
    check_config_names,
    check_paths,
    client_address,
    form_value,
    reset_link,
)
from reflex_django.mixins._build import caller_module, populate

if TYPE_CHECKING:
    from reflex_django.auth.settings import AuthSettings

__all__ = ["PasswordResetConfig", "password_reset_mixin", "populate_password_reset_state"]


@dataclass(frozen=True)
class PasswordResetConfig:
    """What `password_reset_mixin` generates, and where it sends people."""

    password_reset_url: str = "/password-reset"
    # The page of the link in the email: `[uid]` and `[key]` (`[token]` is read as
    # `[key]`, which matches the same paths; Reflex reserves the name `token`).
    password_reset_confirm_url: str = DEFAULTS["PASSWORD_RESET_CONFIRM_URL"]
    # Where the browser goes once the new password is set.
    login_url: str = "/login"
    # State var names: error text (str); password changed, email sent, link valid (bool).
    error_var: str = "reset_error"
    success_var: str = "reset_success"
    email_sent_var: str = "reset_email_sent"
    confirm_valid_var: str = "reset_link_valid"
    # Event names.
    request_event: str = "submit_password_reset_request"
    confirm_event: str = "submit_password_reset_confirm"
    on_load_confirm_event: str = "on_load_password_reset_confirm"
    state_class_name: str = "DjangoAuthState"
    # Texts replacing those of REFLEX_DJANGO_AUTH["MESSAGES"] (0.2.3 keys work too).
    messages: dict[str, str] | None = None

    def __post_init__(self) -> None:
        check_config_names(self)
        check_paths(self, "password_reset_url", "password_reset_confirm_url", "login_url")
        confirm = self.password_reset_confirm_url
        if "[uid]" not in confirm or ("[key]" not in confirm and "[token]" not in confirm):
            raise ValueError(
                f"PasswordResetConfig.password_reset_confirm_url={confirm!r} must contain "
                "the route arguments [uid] and [key]"
            )

    @classmethod
    def from_auth_settings(cls, auth: AuthSettings) -> PasswordResetConfig:
        """The config the canned pages use for these settings."""
        return cls(
            password_reset_url=auth.password_reset_url,
            password_reset_confirm_url=auth.password_reset_confirm_url,
            login_url=auth.login_url,
            messages=auth.messages,
        )


def password_reset_members(
    cfg: PasswordResetConfig,
    current: Callable[[], PasswordResetConfig] | None = None,
    allowed: Callable[[], bool] | None = None,
) -> tuple[Fields, dict[str, Callable[..., Any]]]:
    """The fields and handlers of a password reset state. The names come from `cfg`;
    the routes and texts from `current()` (default: `cfg`) at each event. `allowed()`
    False makes the handlers refuse."""
    settings = current or (lambda: cfg)
    error_var, success_var = cfg.error_var, cfg.success_var
    sent_var, valid_var = cfg.email_sent_var, cfg.confirm_valid_var

    async def request_reset(self: Any, form_data: dict[str, Any]) -> None:
        c = settings()
        setattr(self, error_var, "")
        setattr(self, sent_var, False)
        with override_messages(c.messages):
            if allowed is not None and not allowed():
                setattr(self, error_var, message("reset_unavailable"))
                return
            errors = await sync_to_async(accounts.send_password_reset)(
                form_value(form_data, "email"),
                confirm_url=c.password_reset_confirm_url,
                client_address=client_address(),
            )
        setattr(self, error_var, " ".join(errors))
        setattr(self, sent_var, not errors)

    async def on_load_confirm(self: Any) -> None:
        c = settings()
        setattr(self, error_var, "")
        setattr(self, success_var, False)
        link = reset_link(c.password_reset_confirm_url)
        user = await sync_to_async(accounts.check_reset_link)(*link) if link else None
        setattr(self, valid_var, user is not None)
        if user is None:
            with override_messages(c.messages):
                setattr(self, error_var, message("reset_link_invalid"))

    async def confirm(self: Any, form_data: dict[str, Any]) -> Any:
        c = settings()
        setattr(self, error_var, "")
        setattr(self, success_var, False)
        link = reset_link(c.password_reset_confirm_url)
        with override_messages(c.messages):
            if link is None or (allowed is not None and not allowed()):
                setattr(self, valid_var, False)
                setattr(self, error_var, message("reset_link_invalid"))
                return None
            errors = await sync_to_async(accounts.reset_password)(
                *link,
                form_value(form_data, "new_password", "password1"),
                form_value(form_data, "confirm_password", "password2"),
            )
        if errors:
            setattr(self, error_var, " ".join(errors))
            return None
        setattr(self, success_var, True)
        setattr(self, valid_var, False)  # the link is used up
        return rx.redirect(c.login_url)

    state_fields: Fields = {
        error_var: (str, ""),
        success_var: (bool, False),
        sent_var: (bool, False),
        valid_var: (bool, False),
    }
    members: dict[str, Callable[..., Any]] = {
        cfg.request_event: request_reset,
        cfg.on_load_confirm_event: on_load_confirm,
        cfg.confirm_event: confirm,
    }
    return state_fields, members


def populate_password_reset_state(
    ns: dict[str, Any],
    cfg: PasswordResetConfig,
    *,
    cls_name: str,
    annotations: dict[str, Any],
) -> None:
    """Add the password reset vars (to `ns` and `annotations`) and handlers (to `ns`)
    of a state class being built, for composing one class from several mixins:

    - `cfg.error_var` (str), `cfg.success_var`, `cfg.email_sent_var`,
      `cfg.confirm_valid_var` (bool);
    - `cfg.request_event(form_data)` with `email`: send the link (same answer whether
      or not an account has that address);
    - `cfg.on_load_confirm_event`: check the link of the page (`[uid]`, `[key]` of
      `cfg.password_reset_confirm_url`);
    - `cfg.confirm_event(form_data)` with `new_password`, `confirm_password`: set the
      password, then go to `cfg.login_url`.
    """
    state_fields, members = password_reset_members(cfg)
    populate(ns, annotations, cls_name, state_fields, members)


def password_reset_mixin(
    cfg: PasswordResetConfig,
    *,
    base: type[rx.State],
    state_module: str | None = None,
) -> type[rx.State]:
    """A state class named `cfg.state_class_name`, subclass of `base`, with the members
    of `populate_password_reset_state`. It is set as an attribute of `state_module`
    (default: the caller's module) so Reflex can pickle it."""
    module = state_module or caller_module(inspect.currentframe().f_back)  # type: ignore[union-attr]
    return build_state(
        cfg.state_class_name,
        base,
        module,
        lambda ns, annotations: populate_password_reset_state(
            ns, cfg, cls_name=cfg.state_class_name, annotations=annotations
        ),
        f"Password reset, generated from {cfg!r}.",
        "password_reset_mixin",
    )
