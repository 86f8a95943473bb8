"""Layout pieces for auth pages of your own (the 0.2.3 `components` module).

    from reflex_django.auth.pages.components import auth_card, auth_page_shell, input_100w

    def my_login():
        return auth_page_shell(auth_card(
            rx.heading("Welcome back"),
            rx.form(input_100w("username"), input_100w("password", type="password"),
                    rx.button("Sign in"), on_submit=DjangoAuthState.submit_login_form),
        ))

The canned pages are built from `reflex_django.auth.pages.forms`, whose `auth_card`
takes a title first; this one is the bare card.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

__all__ = [
    "MIN_WIDTH",
    "PADDING_TOP",
    "auth_card",
    "auth_page_shell",
    "error_callout",
    "input_100w",
    "success_callout",
]

# The card's content is never narrower than this.
MIN_WIDTH = "20rem"
# Space above the card in `auth_page_shell`.
PADDING_TOP = "4rem"


def input_100w(name: str, **props: Any) -> rx.Component:
    """A text input spanning its container, submitted under `name`."""
    return rx.input(name=name, width="100%", **props)


def auth_card(*children: rx.Component, **props: Any) -> rx.Component:
    """A card holding `children` in a column (at least `MIN_WIDTH` wide, at most 24rem);
    `props` go to the card."""
    options: dict[str, Any] = {"width": "100%", "max_width": "24rem", "padding": "2rem"}
    options.update(props)
    return rx.card(
        rx.vstack(*children, spacing="4", width="100%", min_width=MIN_WIDTH),
        **options,
    )


def auth_page_shell(content: rx.Component) -> rx.Component:
    """The page around an auth card: full height, centred, `PADDING_TOP` above."""
    return rx.center(content, padding_top=PADDING_TOP, min_height="100vh", width="100%")


def error_callout(message: rx.Var[str] | str, **props: Any) -> rx.Component:
    """A red alert (`role="alert"`, read out by screen readers) for a form error."""
    return _callout(message, "triangle_alert", "red", "alert", props)


def success_callout(message: rx.Var[str] | str, **props: Any) -> rx.Component:
    """A green status message (`role="status"`)."""
    return _callout(message, "circle_check", "green", "status", props)


def _callout(message: rx.Var[str] | str, icon: str, color: str, role: str, props: dict[str, Any]) -> rx.Component:
    options: dict[str, Any] = {"icon": icon, "color_scheme": color, "role": role, "width": "100%"}
    options.update(props)
    return rx.callout(message, **options)
