"""`crud_mixin`'s list features through Reflex's real event path: search over the
configured fields, pages with a total, ordering by whitelisted fields only, and
per-action Django permissions; owner scoping holds throughout."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from django.conf import settings

from dbthread import in_db_thread
from rdj_testproject.notes.models import Note
from reflex_django.auth.conf import DEFAULT_MESSAGES as M
from reflex_django.mixins import ModelCRUDConfig, crud_mixin
from reflex_harness import Reflex, Tab, bridged_app, running

ListedNotes = crud_mixin(
    ModelCRUDConfig(
        model=Note,
        list_var="rows",
        form_fields=("title", "content"),
        error_var="rows_error",
        ordering=("-created_at", "-id"),
        search_fields=("title", "content"),
        page_size=2,
        ordering_fields=("title", "stars"),
        permissions={"delete": "notes.delete_note"},
        on_load_event="load_rows",
        add_event="add_row",
        delete_event="delete_row",
        refresh_method="_refresh_rows_of_listed",
    ),
    state_module="rdj_testproject.generated",
)


@pytest.fixture
async def reflex() -> AsyncIterator[Reflex]:
    async with running(bridged_app()) as r:
        yield r


def notes_for(user: Any, *rows: tuple[str, str, int]) -> None:
    in_db_thread(lambda: Note.objects.bulk_create(Note(user=user, title=t, content=c, stars=s) for t, c, s in rows))


async def state(reflex: Reflex, tab: Tab) -> Any:
    await reflex.settle()
    return await reflex.state(tab, ListedNotes)


def titles(s: Any) -> list[str]:
    return [row["title"] for row in s.rows]


async def test_search_pages_and_ordering(reflex: Reflex, make_user, login) -> None:
    ada, bob = make_user(), make_user()
    notes_for(ada, ("apple pie", "sweet", 3), ("banana", "apple inside", 1), ("cherry", "red", 5))
    notes_for(bob, ("apple of bob", "not ada's", 4))
    tab = await reflex.tab(cookies={settings.SESSION_COOKIE_NAME: login(ada)})
    await tab.send(ListedNotes.load_rows)
    s = await state(reflex, tab)
    assert (s.rows_total, s.rows_pages, s.rows_page, len(s.rows)) == (3, 2, 1, 2)

    await tab.send(ListedNotes.set_rows_order, value="title")
    s = await state(reflex, tab)
    assert titles(s) == ["apple pie", "banana"]
    await tab.send(ListedNotes.set_rows_page, value=2)
    s = await state(reflex, tab)
    assert (titles(s), s.rows_page) == (["cherry"], 2)
    await tab.send(ListedNotes.set_rows_page, value=99)  # clamped to the last page
    s = await state(reflex, tab)
    assert s.rows_page == 2
    await tab.send(ListedNotes.set_rows_order, value="-stars")
    await tab.send(ListedNotes.set_rows_page, value=1)
    s = await state(reflex, tab)
    assert titles(s) == ["cherry", "apple pie"]

    # Search: title or content, only Ada's rows, back to page 1.
    await tab.send(ListedNotes.set_rows_search, value="APPLE")
    s = await state(reflex, tab)
    assert (sorted(titles(s)), s.rows_total, s.rows_page) == (["apple pie", "banana"], 2, 1)

    # An order outside the whitelist is refused (a field not offered, a relation, junk).
    for bad in ("user__password", "-content", "id; drop table", "user"):
        await tab.send(ListedNotes.set_rows_order, value=bad)
        s = await state(reflex, tab)
        assert s.rows_order == "-stars" and s.rows_error == M["crud_bad_order"], bad


async def test_actions_need_their_permissions_and_stay_scoped(reflex: Reflex, make_user, login) -> None:
    from django.contrib.auth.models import Permission

    ada, bob = make_user(), make_user()
    notes_for(ada, ("ada's", "", 0))
    [note_id] = in_db_thread(lambda: list(Note.objects.filter(user=ada).values_list("pk", flat=True)))
    tab = await reflex.tab(cookies={settings.SESSION_COOKIE_NAME: login(ada)})
    await tab.send(ListedNotes.delete_row, item_id=note_id)
    s = await state(reflex, tab)
    assert s.rows_error == M["permission_denied"]
    assert in_db_thread(Note.objects.filter(pk=note_id).exists)

    in_db_thread(lambda: bob.user_permissions.add(Permission.objects.get(codename="delete_note")))
    bobs = await reflex.tab(cookies={settings.SESSION_COOKIE_NAME: login(bob)})
    await bobs.send(ListedNotes.delete_row, item_id=note_id)  # allowed to delete, not Ada's row
    s = await state(reflex, bobs)
    assert s.rows_error == M["crud_not_found"]
    assert in_db_thread(Note.objects.filter(pk=note_id).exists)
    # Adding needs no permission here.
    await tab.send(ListedNotes.set_form_title, value="more")
    await tab.send(ListedNotes.add_row)
    s = await state(reflex, tab)
    assert s.rows_error == "" and "more" in titles(s)


def test_list_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="search_fields: Note has no field 'nope'"):
        ModelCRUDConfig(model=Note, form_fields=("title",), search_fields=("nope",))
    with pytest.raises(ValueError, match="page_size must be a positive number"):
        ModelCRUDConfig(model=Note, form_fields=("title",), page_size=0)
    with pytest.raises(ValueError, match="unknown action"):
        ModelCRUDConfig(model=Note, form_fields=("title",), permissions={"remove": "notes.delete_note"})
