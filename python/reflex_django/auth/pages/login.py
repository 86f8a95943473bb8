"""The canned sign-in page."""

from __future__ import annotations

import reflex as rx

from reflex_django.auth.conf import message
from reflex_django.auth.pages.forms import auth_card, login_form

__all__ = ["login_page"]


def login_page() -> rx.Component:
    """Sign in (`DjangoAuthState.submit_login_form`), with links to sign up and to
    password reset when those are enabled. Use with
    `on_load=DjangoAuthState.on_load_login`."""
    return auth_card(message("login_title"), login_form())
