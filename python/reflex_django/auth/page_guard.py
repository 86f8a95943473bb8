"""Pages behind the handler guards of `reflex_django.authz` (`permission_required`,
`group_required`, `staff_required`, `superuser_required`, `user_passes_test`).

A guarded page renders a spinner and asks the server, on every visit, whether the
event's Django user passes; it shows the page when the server says so, sends anonymous
users to `LOGIN_URL?next=<the page>`, and shows `permission_denied` (or what
`on_denied` returns) to the others. What the page shows is decided in the browser; its
*data* must come from handlers guarded the same way — its `on_load` above all — so a
refused user never receives it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import reflex as rx

from reflex_django.auth.conf import message

# guard id -> the server-side verdict: None to show the page, else what to answer
_VERDICTS: dict[str, Callable[[Any], Awaitable[Any]]] = {}


class PageGuardState(rx.State):
    """Which guarded pages this tab may show, as the server last decided (display
    only: the data comes from guarded handlers)."""

    granted: rx.Field[list[str]] = rx.field(default_factory=list)
    refused: rx.Field[list[str]] = rx.field(default_factory=list)

    @rx.event
    async def check_page(self, guard_id: str) -> Any:
        verdict = _VERDICTS.get(guard_id)
        if verdict is None:
            return None
        answer = await verdict(self)
        self.granted = [g for g in self.granted if g != guard_id] + ([guard_id] if answer is None else [])
        self.refused = [g for g in self.refused if g != guard_id] + ([guard_id] if answer is False else [])
        return None if answer in (None, False) else answer


def guard_page(page: Callable[[], rx.Component], verdict: Callable[[Any], Awaitable[Any]]) -> Callable[[], Any]:
    """`page`, shown only when `await verdict(state)` is None. A verdict of False shows
    the `permission_denied` text; any other answer (a redirect) is sent to the browser."""
    guard_id = f"{page.__module__}.{page.__qualname__}"
    if guard_id in _VERDICTS:
        # Another page by the same name (lambdas, pages made by a factory): numbered in
        # the order they are made, which every worker repeats.
        guard_id += f"#{sum(1 for g in _VERDICTS if g.split('#')[0] == guard_id) + 1}"
    _VERDICTS[guard_id] = verdict

    @functools.wraps(page)
    def guarded() -> rx.Component:
        return rx.box(
            rx.cond(
                PageGuardState.granted.contains(guard_id),
                page(),
                rx.cond(
                    PageGuardState.refused.contains(guard_id),
                    rx.center(rx.text(message("permission_denied"), id="permission-denied"), padding_top="20vh"),
                    rx.center(rx.spinner(size="3"), id="page-guard", padding_top="20vh"),
                ),
            ),
            on_mount=PageGuardState.check_page(guard_id),  # type: ignore[operator]  # mypy misreads rx.event: see auth_state.py
        )

    return guarded
