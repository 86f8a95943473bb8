"""`add_auth_pages(app)`: put the canned auth pages on a Reflex app; `autoload()`.

app = rx.App()
add_auth_pages(app)   # /login, /register, /password-reset, /password-reset/confirm/[uid]/[key]
add_auth_pages(app, layout=my_layout)   # the same pages inside the app's own frame
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import reflex as rx

from reflex_django.auth.conf import message, normalize_confirm_url
from reflex_django.auth.pages.login import login_page
from reflex_django.auth.pages.password_reset import (
    password_reset_confirm_page,
    password_reset_page,
)
from reflex_django.auth.pages.register import register_page
from reflex_django.auth.settings import AuthSettings, get_auth_settings
from reflex_django.auth.state import DjangoAuthState

__all__ = ["add_auth_pages", "autoload"]

# The reset link carries a secret: do not leak it in the Referer of anything the
# page loads or links to.
_NO_REFERRER = [{"name": "referrer", "content": "no-referrer"}]


def add_auth_pages(
    app: rx.App,
    *,
    settings: AuthSettings | None = None,
    layout: Callable[[rx.Component], rx.Component] | None = None,
) -> list[str]:
    """Add the enabled canned pages to `app`; routes the app already has (your own
    pages) are skipped. Returns the routes added. `layout`, when given, is called with
    each page's content and returns the whole page (the app's nav bar around it, say).

    Sign-in always (when `ENABLED`); registration with `SIGNUP_ENABLED`; the two
    reset pages with `PASSWORD_RESET_ENABLED`. `settings` (default:
    `get_auth_settings()`, i.e. `REFLEX_DJANGO_AUTH`) decides which pages and at which
    routes; the pages' links and handlers always follow `REFLEX_DJANGO_AUTH`, so keep
    the two in agreement.
    """
    auth = settings if settings is not None else get_auth_settings()
    if not auth.enabled:
        return []
    pages: list[tuple[str, Callable[[], rx.Component], str, Any, list[Any] | None]] = [
        (auth.login_url, login_page, message("login_title"), DjangoAuthState.on_load_login, None)
    ]
    if auth.signup_enabled:
        pages.append(
            (
                auth.signup_url,
                register_page,
                message("signup_title"),
                DjangoAuthState.on_load_register,
                None,
            )
        )
    if auth.password_reset_enabled:
        pages += [
            (
                auth.password_reset_url,
                password_reset_page,
                message("reset_title"),
                DjangoAuthState.on_load_password_reset,
                _NO_REFERRER,
            ),
            (
                normalize_confirm_url(auth.password_reset_confirm_url),
                password_reset_confirm_page,
                message("reset_confirm_title"),
                DjangoAuthState.on_load_password_reset_confirm,
                _NO_REFERRER,
            ),
        ]
    taken = _app_routes(app)
    added = []
    for route, component, title, on_load, meta in pages:
        if _route_key(route) in taken:
            continue
        extra: dict[str, Any] = {"meta": meta} if meta else {}
        page = _laid_out(component, layout) if layout else component
        app.add_page(page, route=route, title=title, on_load=on_load, **extra)
        added.append(route)
    return added


def _laid_out(
    page: Callable[[], rx.Component], layout: Callable[[rx.Component], rx.Component]
) -> Callable[[], rx.Component]:
    @functools.wraps(page)
    def laid_out() -> rx.Component:
        return layout(page())

    return laid_out


def autoload() -> list[str]:
    """`add_auth_pages` on the app of this Reflex project: the `app` of the module
    `rxconfig` names (`<app_name>.<app_name>` by default). Prefer calling
    `add_auth_pages(app)` in that module; this is for setups that cannot."""
    from importlib import import_module

    from reflex_base.config import get_config

    config = get_config()
    module_name = config.module
    app = getattr(import_module(module_name), "app", None)
    if not isinstance(app, rx.App):
        raise RuntimeError(
            f"no rx.App named `app` in {module_name}; hint: define `app = rx.App(...)` "
            "there, or call add_auth_pages(app) in your app module yourself"
        )
    return add_auth_pages(app)


def _route_key(route: str) -> str:
    from reflex_base.utils import format

    return format.format_route(route)


def _app_routes(app: rx.App) -> set[str]:
    """The routes `app` has, including `@rx.page` pages not yet added."""
    from reflex_base.registry import RegistrationContext

    routes = set(getattr(app, "_unevaluated_pages", {}))
    for render_fn, kwargs in RegistrationContext.ensure_context().decorated_pages:
        key = app._page_route_key(render_fn, kwargs.get("route"))
        if key:
            routes.add(key)
    return routes
