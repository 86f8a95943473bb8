"""`DjangoUserState`: a display snapshot of the event's Django user.

The snapshot lives in Reflex state, which the browser receives: use it to render
("Signed in as …"), never to decide. Server-side checks call `current_user()`.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from asgiref.sync import sync_to_async

from reflex_django.context import current_user

__all__ = ["DjangoUserState", "auser_snapshot", "user_snapshot"]


def user_snapshot(user: Any) -> dict[str, Any]:
    """A JSON-safe dict describing `user` (the fields of `DjangoUserState`).

    Reads the user's groups from the database: from async code use
    `await auser_snapshot(user)`.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return {
            "user_id": None,
            "username": "",
            "email": "",
            "first_name": "",
            "last_name": "",
            "is_authenticated": False,
            "is_staff": False,
            "is_superuser": False,
            "group_names": [],
        }
    pk = user.pk
    groups = getattr(user, "groups", None)
    email_field = getattr(type(user), "get_email_field_name", lambda: "email")()
    return {
        "user_id": pk if isinstance(pk, int) else str(pk),
        "username": user.get_username(),
        "email": str(getattr(user, email_field, "") or ""),
        "first_name": str(getattr(user, "first_name", "") or ""),
        "last_name": str(getattr(user, "last_name", "") or ""),
        "is_authenticated": True,
        "is_staff": bool(getattr(user, "is_staff", False)),
        "is_superuser": bool(getattr(user, "is_superuser", False)),
        "group_names": sorted(g.name for g in groups.all()) if groups is not None else [],
    }


async def auser_snapshot(user: Any) -> dict[str, Any]:
    """`user_snapshot` for async code (runs the group query in Django's sync thread)."""
    return await sync_to_async(user_snapshot)(user)


class DjangoUserState(rx.State):
    """The current Django user, for display. Subclass it or use it directly:

    `app.add_page(index, on_load=DjangoUserState.sync_from_django)`.
    """

    user_id: int | str | None = None
    username: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    is_authenticated: bool = False
    is_staff: bool = False
    is_superuser: bool = False
    group_names: list[str] = []

    @rx.event
    async def sync_from_django(self) -> None:
        """Copy the event's user into the state (use as `on_load`)."""
        await self.refresh_django_user_fields()

    async def refresh_django_user_fields(self) -> None:
        """Refresh the snapshot, e.g. from a handler that just logged in or out."""
        for name, value in (await auser_snapshot(current_user())).items():
            setattr(self, name, value)
