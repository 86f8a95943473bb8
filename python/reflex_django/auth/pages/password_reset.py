"""The canned password reset pages: ask for the link, then choose a new password."""

from __future__ import annotations

import reflex as rx

from reflex_django.auth.conf import message
from reflex_django.auth.pages.forms import (
    auth_card,
    password_reset_confirm_form,
    password_reset_form,
)

__all__ = ["password_reset_confirm_page", "password_reset_page"]


def password_reset_page() -> rx.Component:
    """Asks for the email address and sends the link
    (`DjangoAuthState.submit_password_reset_form`). Use with
    `on_load=DjangoAuthState.on_load_password_reset`."""
    return auth_card(message("reset_title"), password_reset_form())


def password_reset_confirm_page() -> rx.Component:
    """The page of the link (`[uid]` and `[key]` in its route): a new password, twice
    (`DjangoAuthState.submit_password_reset_confirm_form`). Use with
    `on_load=DjangoAuthState.on_load_password_reset_confirm`."""
    return auth_card(message("reset_confirm_title"), password_reset_confirm_form())
