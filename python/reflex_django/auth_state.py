"""`DjangoUserState`: a display snapshot of the event's Django user.

The snapshot lives in Reflex state, which the browser receives: use it to render
("Signed in as …"), never to decide. Server-side checks call `current_user()`.

Group names are part of the snapshot only when asked for (`include_groups=True`, or
the setting `REFLEX_DJANGO_USER_SNAPSHOT_INCLUDE_GROUPS = True`), since reading them
costs a query and shows the browser how the site is organised.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import reflex as rx
from asgiref.sync import sync_to_async

from reflex_django.context import current_user

__all__ = [
    "DjangoUserState",
    "auser_snapshot",
    "include_groups_by_default",
    "user_group_names",
    "user_snapshot",
]


def include_groups_by_default() -> bool:
    """The setting `REFLEX_DJANGO_USER_SNAPSHOT_INCLUDE_GROUPS` (default False)."""
    from reflex_django.conf import setting

    return bool(setting("REFLEX_DJANGO_USER_SNAPSHOT_INCLUDE_GROUPS", False))


def user_snapshot(user: Any, *, group_names: Iterable[str] | None = None) -> dict[str, Any]:
    """A JSON-safe dict describing `user`; never touches the database.

    Keys: `id` and `user_id` (both the primary key, None when anonymous),
    `username`, `email`, `first_name`, `last_name`, `is_authenticated`, `is_staff`,
    `is_superuser`, `group_names`. `group_names` is the list given, else empty: to
    read the user's groups, use `await auser_snapshot(user, include_groups=True)`, or
    pass `group_names=user_group_names(user)` from sync code.
    Anonymous users (and None) get empty values and no groups.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return {
            "id": None,
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
    pk = getattr(user, "pk", None)
    pk = pk if pk is None or isinstance(pk, int) else str(pk)
    get_username = getattr(user, "get_username", None)
    username = get_username() if callable(get_username) else getattr(user, "username", "")
    email_field = getattr(type(user), "get_email_field_name", lambda: "email")()
    return {
        "id": pk,
        "user_id": pk,
        "username": str(username or ""),
        "email": str(getattr(user, email_field, "") or ""),
        "first_name": str(getattr(user, "first_name", "") or ""),
        "last_name": str(getattr(user, "last_name", "") or ""),
        "is_authenticated": True,
        "is_staff": bool(getattr(user, "is_staff", False)),
        "is_superuser": bool(getattr(user, "is_superuser", False)),
        "group_names": [str(name) for name in group_names or ()],
    }


def user_group_names(user: Any) -> list[str]:
    """The names of `user`'s groups, sorted (one query; sync code only). Empty for
    anonymous users and user models without groups."""
    groups = getattr(user, "groups", None)
    if groups is None or not getattr(user, "is_authenticated", False):
        return []
    return sorted(groups.values_list("name", flat=True))


async def auser_snapshot(user: Any, *, include_groups: bool | None = None) -> dict[str, Any]:
    """`user_snapshot` for async code, with the user's groups when `include_groups`
    (None: the setting `REFLEX_DJANGO_USER_SNAPSHOT_INCLUDE_GROUPS`)."""
    if include_groups is None:
        include_groups = include_groups_by_default()
    names = await sync_to_async(user_group_names)(user) if include_groups else None
    return user_snapshot(user, group_names=names)


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

    # `include_groups` is typed Any, not `bool | None`: Reflex would otherwise refuse
    # these handlers as `on_click=` targets (it offers the click's event data to the
    # first free parameter). Anything but a bool counts as None.

    # mypy takes `rx.event(f)` for an EventNamespace (it ignores the type that
    # EventNamespace.__new__ says it returns), and Reflex's types of handlers have
    # positional parameters only.
    @rx.event  # type: ignore[arg-type]
    async def sync_from_django(self, *, include_groups: Any = None) -> None:
        """Copy the event's user into the state (use as `on_load`). Groups are read
        when `include_groups` is True (None: the setting
        `REFLEX_DJANGO_USER_SNAPSHOT_INCLUDE_GROUPS`)."""
        await self.refresh_django_user_fields(include_groups=include_groups)

    async def refresh_django_user_fields(self, *, include_groups: Any = None) -> None:
        """Refresh the snapshot, e.g. from a handler that just logged in or out."""
        flag = include_groups if isinstance(include_groups, bool) else None
        snapshot = await auser_snapshot(current_user(), include_groups=flag)
        del snapshot["id"]  # the state's name for it is `user_id`
        for name, value in snapshot.items():
            setattr(self, name, value)
