"""`login_required`: the page guard. It only decides what the browser *shows*.

The real check belongs in the event handlers that read or change data:
`reflex_django.authz.django_login_required` / `require_login_user()`. A page guard
runs in the browser, which can be made to render anything; it keeps signed-out
visitors on the login page, it does not protect data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import reflex as rx

__all__ = ["login_required"]


def login_required(page: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
    """Wrap a page function: signed-in users see the page; for anyone else it shows a
    spinner and sends them to `LOGIN_URL?next=<this page>`. Put it under `@rx.page()`
    (it keeps the function's name, so the route derived from it stays the same)::

        @rx.page()
        @login_required
        def dashboard(): ...
    """
    from reflex_django.auth.state import DjangoAuthState

    @functools.wraps(page)
    def guarded() -> rx.Component:
        return rx.cond(
            DjangoAuthState.is_authenticated,
            page(),
            rx.center(
                rx.spinner(size="3"),
                on_mount=DjangoAuthState.require_login,
                id="login-required",
                padding_top="20vh",
            ),
        )

    return guarded
