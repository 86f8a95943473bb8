"""`navigation_mixin`: the `redirect_to_login` event of page guards (the 0.2.3 API).

`redirect_to_login` asks Django, not the browser's copy of the state, whether the
event's user is signed in; anonymous users go to `LOGIN_URL?next=<this page>`. It
decides what the browser shows; it does not protect data (see
`reflex_django.authz.django_login_required` for that).
"""

from __future__ import annotations

import inspect
from typing import Any

import reflex as rx

from reflex_django.auth.mixins._common import build_state, redirect_to_login
from reflex_django.mixins._build import caller_module, populate

__all__ = ["navigation_mixin", "populate_navigation_state"]


def navigation_members() -> dict[str, Any]:
    async def redirect(self: Any) -> Any:
        return await redirect_to_login(self)

    return {"redirect_to_login": redirect}


def populate_navigation_state(ns: dict[str, Any], *, cls_name: str) -> None:
    """Add the `redirect_to_login` handler to the namespace of a state class being
    built (use it as `on_mount`/`on_load` of a guarded page)."""
    populate(ns, {}, cls_name, {}, navigation_members())


def navigation_mixin(
    *,
    base: type[rx.State],
    state_module: str | None = None,
    state_class_name: str = "DjangoAuthState",
) -> type[rx.State]:
    """A state class named `state_class_name`, subclass of `base` (any `rx.State`
    subclass), with `redirect_to_login`. It is set as an attribute of `state_module`
    (default: the caller's module) so Reflex can pickle it."""
    module = state_module or caller_module(inspect.currentframe().f_back)  # type: ignore[union-attr]
    return build_state(
        state_class_name,
        base,
        module,
        lambda ns, annotations: populate_navigation_state(ns, cls_name=state_class_name),
        "The redirect_to_login page guard event.",
        "navigation_mixin",
    )
