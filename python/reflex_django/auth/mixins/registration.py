"""`registration_mixin`: a Reflex state that signs new users up (the 0.2.3 API).

    from reflex_django.auth.mixins.registration import RegistrationConfig, registration_mixin

    class SignUpState(registration_mixin(RegistrationConfig(state_class_name="SignUp"),
                                         base=AppState)):
        pass

    rx.form(..., on_submit=SignUpState.handle_registration)   # username, email,
                                                               # password, confirm_password

The account is created by `reflex_django.auth.accounts.register_user` (Django's user
model, password validators, duplicate check), then signed in through the configured
authentication backends; the session reaches the browser through the HttpOnly hand-off
view, as for every sign-in here. `base` may be any `rx.State` subclass.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import reflex as rx

from reflex_django.auth.conf import auth_setting
from reflex_django.auth.mixins._common import (
    Fields,
    build_state,
    check_config_names,
    check_paths,
    form_value,
    redirect_if_signed_in,
    register_and_sign_in,
)
from reflex_django.mixins._build import caller_module, populate

if TYPE_CHECKING:
    from reflex_django.auth.settings import AuthSettings

__all__ = ["RegistrationConfig", "populate_registration_state", "registration_mixin"]


@dataclass(frozen=True)
class RegistrationConfig:
    """What `registration_mixin` generates, and the rules it applies."""

    # After signing up (the new user is signed in).
    signup_redirect_url: str = "/login"
    # Signed-in users who open the page go there (None: stay).
    redirect_when_authenticated: str | None = "/"
    email_required: bool = False
    username_min_length: int = 1
    password_min_length: int = 8
    # State var names (str error text, bool "account created") and event names.
    error_var: str = "registration_error"
    success_var: str = "registration_success"
    on_load_event: str = "on_load_register"
    submit_event: str = "handle_registration"
    state_class_name: str = "DjangoAuthState"
    # Texts replacing those of REFLEX_DJANGO_AUTH["MESSAGES"] (0.2.3 keys work too).
    messages: dict[str, str] | None = None

    def __post_init__(self) -> None:
        check_config_names(self)
        check_paths(self, "signup_redirect_url", optional=("redirect_when_authenticated",))

    @classmethod
    def from_auth_settings(cls, auth: AuthSettings) -> RegistrationConfig:
        """The config the canned pages use for these settings."""
        return cls(
            signup_redirect_url=auth.signup_redirect_url,
            redirect_when_authenticated=auth.redirect_authenticated_user,
            email_required=auth.email_required,
            username_min_length=auth.username_min_length,
            password_min_length=auth.password_min_length,
            messages=auth.messages,
        )


def registration_members(
    cfg: RegistrationConfig,
    current: Callable[[], RegistrationConfig] | None = None,
    allowed: Callable[[], bool] | None = None,
) -> tuple[Fields, dict[str, Callable[..., Any]]]:
    """The fields and handlers of a registration state. The names come from `cfg`;
    the rules from `current()` (default: `cfg`) at each event. `allowed()` False
    makes the submit handler refuse (it sends the browser to `LOGIN_URL`)."""
    rules = current or (lambda: cfg)
    error_var, success_var = cfg.error_var, cfg.success_var

    async def on_load(self: Any) -> Any:
        setattr(self, error_var, "")
        setattr(self, success_var, False)
        return await redirect_if_signed_in(self, rules().redirect_when_authenticated)

    async def submit(self: Any, form_data: dict[str, Any]) -> Any:
        setattr(self, error_var, "")
        setattr(self, success_var, False)
        if allowed is not None and not allowed():
            return rx.redirect(auth_setting("LOGIN_URL"))
        c = rules()
        form = {
            "username": form_value(form_data, "username"),
            "email": form_value(form_data, "email"),
            "password1": form_value(form_data, "password", "password1"),
            "password2": form_value(form_data, "confirm_password", "password2"),
        }
        created, event, errors = await register_and_sign_in(
            self,
            form,
            c.signup_redirect_url,
            messages=c.messages,
            email_required=c.email_required,
            username_min_length=c.username_min_length,
            password_min_length=c.password_min_length,
        )
        setattr(self, success_var, created)
        setattr(self, error_var, " ".join(errors))
        return event

    state_fields: Fields = {error_var: (str, ""), success_var: (bool, False)}
    return state_fields, {cfg.on_load_event: on_load, cfg.submit_event: submit}


def populate_registration_state(
    ns: dict[str, Any],
    cfg: RegistrationConfig,
    *,
    cls_name: str,
    annotations: dict[str, Any],
) -> None:
    """Add the registration vars (to `ns` and `annotations`) and handlers (to `ns`) of
    a state class being built, for composing one class from several mixins:

    - `cfg.error_var` (str), `cfg.success_var` (bool);
    - `cfg.on_load_event`: clear them; a signed-in user goes to `?next=` or
      `cfg.redirect_when_authenticated`;
    - `cfg.submit_event(form_data)` with `username`, `email`, `password`,
      `confirm_password`: create the account, sign in, load `cfg.signup_redirect_url`.
    """
    state_fields, members = registration_members(cfg)
    populate(ns, annotations, cls_name, state_fields, members)


def registration_mixin(
    cfg: RegistrationConfig,
    *,
    base: type[rx.State],
    state_module: str | None = None,
) -> type[rx.State]:
    """A state class named `cfg.state_class_name`, subclass of `base`, with the members
    of `populate_registration_state`. It is set as an attribute of `state_module`
    (default: the caller's module) so Reflex can pickle it."""
    module = state_module or caller_module(inspect.currentframe().f_back)  # type: ignore[union-attr]
    return build_state(
        cfg.state_class_name,
        base,
        module,
        lambda ns, annotations: populate_registration_state(
            ns, cfg, cls_name=cfg.state_class_name, annotations=annotations
        ),
        f"Registration, generated from {cfg!r}.",
        "registration_mixin",
    )
