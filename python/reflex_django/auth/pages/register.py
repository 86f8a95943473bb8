"""The canned registration page."""

from __future__ import annotations

import reflex as rx

from reflex_django.auth.conf import message
from reflex_django.auth.pages.forms import auth_card, register_form

__all__ = ["register_page"]


def register_page() -> rx.Component:
    """Sign up (`DjangoAuthState.submit_register_form`): username, email (required
    with `EMAIL_REQUIRED`), password twice. Use with
    `on_load=DjangoAuthState.on_load_register`."""
    return auth_card(message("signup_title"), register_form())
