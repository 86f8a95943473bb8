"""The forms of the canned pages, and the card they sit in: build your own page from
them, or from scratch wired to `DjangoAuthState`.

Elements carry stable ids for tests: `login-form`, `login-username`,
`login-password`, `login-submit`, `login-error`; `register-…` (`username`, `email`,
`password1`, `password2`, `submit`, `error`); `reset-…` (`email`, `submit`, `sent`,
`error`); `reset-confirm-…` (`password1`, `password2`, `submit`, `error`, `done`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import reflex as rx

from reflex_django.auth.conf import auth_settings, message
from reflex_django.auth.state import DjangoAuthState

__all__ = [
    "auth_card",
    "login_form",
    "password_reset_confirm_form",
    "password_reset_form",
    "register_form",
]


def auth_card(title: str, *children: rx.Component) -> rx.Component:
    """The frame of every canned page: a centred card with a heading. (Not the
    0.2.3 `components.auth_card(*children)`, which is the bare card.)"""
    return rx.center(
        rx.card(
            rx.vstack(rx.heading(title, size="6"), *children, spacing="4", width="100%"),
            width="100%",
            max_width="26em",
        ),
        padding_top="10vh",
        padding_x="1em",
    )


def _field(label: str, name: str, id: str, type: str = "text", **props: Any) -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=id),
        rx.input(name=name, id=id, type=type, width="100%", **{"required": True, **props}),
        spacing="1",
        width="100%",
    )


def _new_password_fields(prefix: str, first_label: str) -> list[rx.Component]:
    return [
        _field(
            message(label),
            name,
            f"{prefix}-{name}",
            type="password",
            auto_complete="new-password",
        )
        for label, name in ((first_label, "password1"), ("password_confirm_label", "password2"))
    ]


def _form(
    prefix: str,
    error: Any,
    on_submit: Any,
    button: str,
    fields: list[rx.Component],
    links: Sequence[rx.Component] = (),
) -> rx.Component:
    """A form of the canned pages: its error, the fields, the submit button, links.
    Ids: `<prefix>-form`, `<prefix>-error`, `<prefix>-submit`."""
    return rx.form(
        rx.vstack(
            rx.cond(
                error != "",
                rx.callout(error, color_scheme="red", role="alert", id=f"{prefix}-error"),
            ),
            *fields,
            rx.button(message(button), type="submit", id=f"{prefix}-submit", width="100%"),
            *links,
            spacing="3",
            width="100%",
        ),
        on_submit=on_submit,
        id=f"{prefix}-form",
        width="100%",
    )


def _link(text_key: str, href: str, id: str) -> rx.Component:
    return rx.link(message(text_key), href=href, id=id)


def login_form() -> rx.Component:
    settings = auth_settings()
    links: list[rx.Component] = []
    if settings["SIGNUP_ENABLED"]:
        links.append(_link("signup_link", settings["SIGNUP_URL"], "login-signup-link"))
    if settings["PASSWORD_RESET_ENABLED"]:
        links.append(_link("forgot_password_link", settings["PASSWORD_RESET_URL"], "login-reset-link"))
    return _form(
        "login",
        DjangoAuthState.login_error,
        DjangoAuthState.submit_login_form,
        "login_button",
        [
            _field(message("username_label"), "username", "login-username", auto_complete="username"),
            _field(
                message("password_label"),
                "password",
                "login-password",
                type="password",
                auto_complete="current-password",
            ),
        ],
        links,
    )


def register_form() -> rx.Component:
    settings = auth_settings()
    return _form(
        "register",
        DjangoAuthState.register_error,
        DjangoAuthState.submit_register_form,
        "signup_button",
        [
            _field(
                message("username_label"),
                "username",
                "register-username",
                auto_complete="username",
            ),
            _field(
                message("email_label"),
                "email",
                "register-email",
                type="email",
                auto_complete="email",
                required=bool(settings["EMAIL_REQUIRED"]),
            ),
            *_new_password_fields("register", "password_label"),
        ],
        [_link("login_link", settings["LOGIN_URL"], "register-login-link")],
    )


def password_reset_form() -> rx.Component:
    return rx.cond(
        DjangoAuthState.reset_sent,
        rx.callout(message("reset_sent"), color_scheme="green", id="reset-sent"),
        rx.vstack(
            rx.text(message("reset_intro"), size="2"),
            _form(
                "reset",
                DjangoAuthState.reset_error,
                DjangoAuthState.submit_password_reset_form,
                "reset_button",
                [_field(message("email_label"), "email", "reset-email", type="email")],
                [_link("login_link", auth_settings()["LOGIN_URL"], "reset-login-link")],
            ),
            width="100%",
        ),
    )


def password_reset_confirm_form() -> rx.Component:
    login = rx.link(message("login_title"), href=auth_settings()["LOGIN_URL"], id="reset-confirm-login-link")
    error = DjangoAuthState.reset_confirm_error
    return rx.cond(
        DjangoAuthState.reset_done,
        rx.vstack(rx.callout(message("reset_done"), color_scheme="green", id="reset-confirm-done"), login),
        rx.cond(
            DjangoAuthState.reset_link_valid,
            _form(
                "reset-confirm",
                error,
                DjangoAuthState.submit_password_reset_confirm_form,
                "reset_confirm_button",
                _new_password_fields("reset-confirm", "new_password_label"),
            ),
            rx.vstack(
                rx.callout(error, color_scheme="red", role="alert", id="reset-confirm-error"),
                login,
            ),
        ),
    )
