"""session_auth_mixin and crud_mixin: what they generate, and the CRUD handlers'
owner scoping and validation through Reflex's real event path, including payloads a
hostile browser could send."""

from __future__ import annotations

import pickle
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
import reflex as rx
from django.conf import settings
from django.test import override_settings

from auth_helpers import browser_get, last_load, navigations, session_cookie_of
from dbthread import in_db_thread
from rdj_testproject.notes.models import Bookmark, Note
from reflex_django import DjangoUserState
from reflex_django.auth.conf import DEFAULT_MESSAGES as M
from reflex_django.mixins import ModelCRUDConfig, SessionAuthConfig, crud_mixin, session_auth_mixin
from reflex_harness import Reflex, Tab, bridged_app, running


class AppState(rx.State):
    """The app's shared base, as in the docs."""


class LoginState(
    session_auth_mixin(
        SessionAuthConfig(
            post_login_redirect="/notes",
            post_logout_redirect="/bye",
            redirect_when_authenticated="/notes",
            invalid_credentials_message="No luck.",
        ),
        base=DjangoUserState,
    )
):
    """Subclassed for an app-specific name, as the docs suggest."""


CustomAuth = session_auth_mixin(
    SessionAuthConfig(
        username_var="who",
        password_var="secret",
        error_var="problem",
        on_load_event="arrive",
        submit_event="enter",
        submit_form_event=None,
        logout_event="leave",
        form_username_key="user",
        state_class_name="CustomAuth",
    ),
    base=DjangoUserState,
    state_module="rdj_testproject.generated",
)

NOTES = ModelCRUDConfig(
    model=Note,
    list_var="notes",
    form_fields=("title", "content", "stars"),
    error_var="notes_error",
    owner_field="user",
    ordering=("-created_at", "-id"),
    required_for_create=("title",),
    exclude_from_row=("user",),
    refresh_method="_refresh_note_rows",
    on_load_event="on_load_notes",
    add_event="add_note",
    delete_event="delete_note",
)


class NotesState(crud_mixin(NOTES, base=AppState)):
    @rx.event
    async def reload_from_subclass(self) -> None:
        await self._refresh_note_rows()


BookmarkState = crud_mixin(
    ModelCRUDConfig(
        model=Bookmark,
        form_fields=("url",),
        owner_field=None,  # shared by every signed-in user (the default is "user")
        ordering=(),  # the default is ("-created_at",)
        refresh_method="refresh_items",  # a public name: an event handler
        row_serializer=lambda b: {"id": b.pk, "url": b.url, "host": b.url.split("/")[2]},
    ),
    base=AppState,
)


@pytest.fixture
async def reflex() -> AsyncIterator[Reflex]:
    async with running(bridged_app()) as r:
        yield r


# --- generation ---------------------------------------------------------------------


def test_session_auth_generation() -> None:
    generated = LoginState.get_parent_state()
    assert generated.__name__ == "SessionAuthState" and generated.__module__ == __name__
    assert generated.get_parent_state() is DjangoUserState
    assert sys.modules[__name__].SessionAuthState is generated
    assert set(generated.base_vars) == {"login_username", "login_password", "login_error"}
    assert set(generated.event_handlers) >= {
        "on_load_login",
        "submit_login",
        "submit_login_form",
        "logout",
        "set_login_username",
        "set_login_password",
    }
    assert pickle.loads(pickle.dumps(generated)) is generated


def test_session_auth_generation_with_custom_names() -> None:
    import rdj_testproject.generated as module

    assert module.CustomAuth is CustomAuth and CustomAuth.__module__ == module.__name__
    assert set(CustomAuth.base_vars) == {"who", "secret", "problem"}
    handlers = set(CustomAuth.event_handlers)
    assert {"arrive", "enter", "leave", "set_who", "set_secret"} <= handlers
    assert not handlers & {"submit_login_form", "submit_login", "logout", "on_load_login"}
    assert pickle.loads(pickle.dumps(CustomAuth)) is CustomAuth


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"username_var": "not valid"}, "not a valid Python identifier"),
        ({"username_var": "_hidden"}, "names starting with '_'"),
        ({"submit_event": "logout"}, "submit_event and logout_event are both 'logout'"),
        ({"post_login_redirect": "https://evil.example"}, "must be a local path"),
    ],
)
def test_session_auth_config_errors(kwargs: dict, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        SessionAuthConfig(**kwargs)


def test_session_auth_needs_a_state_and_a_free_name() -> None:
    with pytest.raises(TypeError, match=r"must be an rx\.State subclass"):
        session_auth_mixin(SessionAuthConfig(state_class_name="Nope"), base=dict)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="already exists"):
        session_auth_mixin(SessionAuthConfig(), base=DjangoUserState)  # SessionAuthState again


def test_crud_generation() -> None:
    generated = NotesState.get_parent_state()
    assert generated.__name__ == "NoteCRUDState" and sys.modules[__name__].NoteCRUDState is generated
    assert generated.get_parent_state() is AppState
    assert set(generated.base_vars) == {
        "notes",
        "notes_error",
        "notes_error_fields",
        "editing_id",
        "form_title",
        "form_content",
        "form_stars",
        "edit_title",
        "edit_content",
        "edit_stars",
    }
    assert set(generated.event_handlers) - {"setvar"} == {
        "on_load_notes",
        "add_note",
        "delete_note",
        "start_edit",
        "save_edit",
        "cancel_edit",
        *(f"set_{p}_{f}" for p in ("form", "edit") for f in ("title", "content", "stars")),
    }
    assert callable(generated._refresh_note_rows)  # "_" name: a method, not a handler
    assert "refresh_items" in BookmarkState.event_handlers  # a public name is a handler
    assert pickle.loads(pickle.dumps(generated)) is generated


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"form_fields": ()}, "form_fields is empty"),
        ({"form_fields": ("nope",)}, "has no field 'nope'"),
        ({"form_fields": ("user",)}, "is the owner_field"),
        ({"form_fields": ("id",)}, "is the primary key"),
        ({"form_fields": ("created_at",)}, "not an editable model field"),
        ({"owner_field": "stars"}, "must be a ForeignKey or OneToOneField to the user model"),
        ({"required_for_create": ("content",), "form_fields": ("title",)}, "not in form_fields"),
        ({"ordering": ("-nope",)}, "has no field 'nope'"),
        ({"add_event": "delete_item"}, "are both 'delete_item'"),
        ({"list_var": "form_title"}, "are both 'form_title'"),
    ],
)
def test_crud_config_errors(kwargs: dict, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        ModelCRUDConfig(**{"model": Note, "form_fields": ("title",), "owner_field": "user", **kwargs})


def test_crud_refuses_relation_form_fields() -> None:
    with pytest.raises(ValueError, match="is a relation"):
        ModelCRUDConfig(model=Bookmark, form_fields=("note",))
    with pytest.raises(TypeError, match="must be a Django model class"):
        ModelCRUDConfig(model=dict, form_fields=("x",))  # type: ignore[arg-type]


# --- CRUD through events ------------------------------------------------------------


async def user_tab(reflex: Reflex, login: Any, user: Any) -> Tab:
    return await reflex.tab(cookies={settings.SESSION_COOKIE_NAME: login(user)})


async def notes_of(reflex: Reflex, tab: Tab) -> Any:
    return await reflex.state(tab, NotesState)


async def add(tab: Tab, title: str, content: str = "", stars: str = "") -> None:
    await tab.send(NotesState.set_form_title, value=title)
    await tab.send(NotesState.set_form_content, value=content)
    await tab.send(NotesState.set_form_stars, value=stars)
    await tab.send(NotesState.add_note)


def db_titles(user: Any) -> list[str]:
    return in_db_thread(lambda: sorted(Note.objects.filter(user=user).values_list("title", flat=True)))


async def test_create_list_edit_delete(reflex: Reflex, make_user, login) -> None:
    ada = make_user()
    tab = await user_tab(reflex, login, ada)
    await add(tab, "first", "hello", "3")
    await add(tab, "second")
    await reflex.settle()
    state = await notes_of(reflex, tab)
    assert [n["title"] for n in state.notes] == ["second", "first"]
    first = state.notes[1]
    assert first["content"] == "hello" and first["stars"] == 3 and "user" not in first
    assert isinstance(first["id"], int) and first["created_at"].endswith("+00:00")
    assert (state.form_title, state.form_content, state.notes_error_fields) == ("", "", {})
    assert state.notes_error == ""

    await tab.send(NotesState.start_edit, item_id=first["id"])
    await reflex.settle()
    state = await notes_of(reflex, tab)
    assert (state.editing_id, state.edit_title, state.edit_content, state.edit_stars) == (
        first["id"],
        "first",
        "hello",
        "3",
    )
    await tab.send(NotesState.set_edit_title, value="first, edited")
    await tab.send(NotesState.save_edit)
    await reflex.settle()
    state = await notes_of(reflex, tab)
    assert state.editing_id == -1 and state.edit_title == ""
    assert db_titles(ada) == ["first, edited", "second"]

    await tab.send(NotesState.start_edit, item_id=str(first["id"]))  # ids arrive as text too
    await tab.send(NotesState.cancel_edit)
    await tab.send(NotesState.delete_note, item_id=first["id"])
    await reflex.settle()
    state = await notes_of(reflex, tab)
    assert state.editing_id == -1 and [n["title"] for n in state.notes] == ["second"]
    assert db_titles(ada) == ["second"]


async def test_user_b_cannot_touch_user_as_rows(reflex: Reflex, make_user, login) -> None:
    ada, bob = make_user(), make_user()
    ada_tab = await user_tab(reflex, login, ada)
    await add(ada_tab, "ada's secret", "do not read")
    await reflex.settle()
    [ada_note] = (await notes_of(reflex, ada_tab)).notes
    note_id = ada_note["id"]

    bob_tab = await user_tab(reflex, login, bob)
    await bob_tab.send(NotesState.on_load_notes)
    await reflex.settle()
    assert (await notes_of(reflex, bob_tab)).notes == []

    # Read: start_edit with Ada's id loads nothing.
    await bob_tab.send(NotesState.start_edit, item_id=note_id)
    await reflex.settle()
    state = await notes_of(reflex, bob_tab)
    assert (state.editing_id, state.edit_title, state.edit_content) == (-1, "", "")
    assert state.notes_error_fields == {"__all__": M["crud_not_found"]}
    assert state.notes_error == M["crud_not_found"]

    # Edit: point editing_id at Ada's row with Reflex's own setvar, then save.
    await bob_tab.send(NotesState.setvar, var_name="editing_id", value=note_id)
    await bob_tab.send(NotesState.setvar, var_name="edit_title", value="pwned")
    await bob_tab.send(NotesState.save_edit)
    # Delete: Ada's id, as int, as text, and as junk.
    for crafted in (note_id, str(note_id), [note_id], {"id": note_id}, "1 OR 1=1", None):
        await bob_tab.send(NotesState.delete_note, item_id=crafted)
    # Create: the owner comes from the session, never from the client.
    await bob_tab.send(NotesState.setvar, var_name="form_title", value="bob's")
    await bob_tab.send(NotesState.add_note, user=ada.pk)  # an unexpected argument: rejected
    await bob_tab.send(NotesState.add_note)
    await reflex.settle()

    assert in_db_thread(lambda: Note.objects.get(pk=note_id).title) == "ada's secret"
    assert db_titles(ada) == ["ada's secret"]
    assert db_titles(bob) == ["bob's"]
    assert [n["title"] for n in (await notes_of(reflex, bob_tab)).notes] == ["bob's"]


async def test_anonymous_users_are_sent_to_login(reflex: Reflex, make_user, login) -> None:
    ada = make_user()
    ada_tab = await user_tab(reflex, login, ada)
    await add(ada_tab, "keep")
    await reflex.settle()
    note_id = (await notes_of(reflex, ada_tab)).notes[0]["id"]

    anonymous = await reflex.tab()
    handlers = [
        (NotesState.on_load_notes, {}),
        (NotesState.set_form_title, {"value": "x"}),
        (NotesState.add_note, {}),
        (NotesState.start_edit, {"item_id": note_id}),
        (NotesState.save_edit, {}),
        (NotesState.delete_note, {"item_id": note_id}),
        (NotesState.reload_from_subclass, {}),
    ]
    for handler, payload in handlers:
        await anonymous.send(handler, url="/notes?page=2", **payload)
    await anonymous.send(NotesState.cancel_edit)  # not gated: touches only local state
    await reflex.settle()
    # To the login page, which leads back here after signing in.
    assert navigations(anonymous) == [("page", "/login?next=%2Fnotes%3Fpage%3D2")] * 6
    state = await notes_of(reflex, anonymous)
    assert (state.notes, state.form_title, state.edit_title) == ([], "", "")
    assert db_titles(ada) == ["keep"]


async def test_full_clean_errors_land_per_field(reflex: Reflex, make_user, login) -> None:
    ada = make_user()
    tab = await user_tab(reflex, login, ada)

    async def errors_after(title: str, stars: str = "") -> dict[str, str]:
        await add(tab, title, "", stars)
        await reflex.settle()
        state = await notes_of(reflex, tab)
        # The same problems as one text, in the str var reflex-django 0.2.3 had.
        assert state.notes_error == " ".join(
            v if k == "__all__" else f"{k.capitalize()}: {v}" for k, v in state.notes_error_fields.items()
        )
        return state.notes_error_fields

    assert await errors_after("   ") == {"title": M["crud_required"]}
    assert await errors_after("x" * 21) == {"title": "Ensure this value has at most 20 characters (it has 21)."}
    # Django's ModelForm for the form fields: its messages (translated).
    assert await errors_after("ok", "many") == {"stars": "Enter a whole number."}
    assert await errors_after("ok", "-1") == {"stars": "Ensure this value is greater than or equal to 0."}
    assert await errors_after("dup") == {}
    assert await errors_after("dup") == {"__all__": "Note with this User and Title already exists."}
    state = await notes_of(reflex, tab)
    assert state.form_title == "dup"  # kept for correcting
    assert db_titles(ada) == ["dup"]

    await tab.send(NotesState.start_edit, item_id=state.notes[0]["id"])
    await tab.send(NotesState.set_edit_title, value="")
    await tab.send(NotesState.save_edit)
    await reflex.settle()
    state = await notes_of(reflex, tab)
    # required_for_create applies to edits too, as in reflex-django 0.2.3.
    assert state.notes_error_fields == {"title": M["crud_required"]}
    assert state.editing_id == state.notes[0]["id"]  # still editing
    assert db_titles(ada) == ["dup"]


async def test_generated_states_round_trip_through_the_state_store(reflex: Reflex, make_user, login) -> None:
    """Reflex's disk and Redis state managers store states with `_serialize()`."""
    tab = await user_tab(reflex, login, make_user())
    await add(tab, "kept")
    await tab.send(LoginState.set_login_username, value="someone")
    await reflex.settle()
    for cls in (NotesState.get_parent_state(), LoginState.get_parent_state(), CustomAuth):
        state = await reflex.state(tab, cls)
        copy = type(state)._deserialize(state._serialize())
        assert type(copy) is type(state)
    notes = await reflex.state(tab, NotesState.get_parent_state())
    assert [n["title"] for n in type(notes)._deserialize(notes._serialize()).notes] == ["kept"]


async def test_unscoped_models_and_row_serializers(reflex: Reflex, make_user, login) -> None:
    ada_tab = await user_tab(reflex, login, make_user())
    bob_tab = await user_tab(reflex, login, make_user())
    await ada_tab.send(BookmarkState.set_form_url, value="https://example.com/a")
    await ada_tab.send(BookmarkState.add_item)
    await ada_tab.send(BookmarkState.set_form_url, value="not a url")
    await ada_tab.send(BookmarkState.add_item)
    await reflex.settle()
    await bob_tab.send(BookmarkState.on_load_items)
    await reflex.settle()
    ada_state = await reflex.state(ada_tab, BookmarkState)
    assert ada_state.item_errors_fields == {"url": "Enter a valid URL."}
    assert ada_state.item_errors == "Url: Enter a valid URL."
    rows = (await reflex.state(bob_tab, BookmarkState)).items
    assert [(r["url"], r["host"]) for r in rows] == [("https://example.com/a", "example.com")]


async def test_session_auth_mixin_signs_in_and_out(reflex: Reflex, make_user, login) -> None:
    user = make_user()
    tab = await reflex.tab()
    await tab.send(LoginState.set_login_username, value=user.username)
    await tab.send(LoginState.set_login_password, value="wrong")
    await tab.send(LoginState.submit_login)
    await reflex.settle()
    state = await reflex.state(tab, LoginState)
    assert (state.login_error, state.login_password) == ("No luck.", "")
    await tab.send(LoginState.submit_login_form, form_data={"username": user.username, "password": "pw"})
    await reflex.settle()
    response = browser_get(last_load(tab))
    assert response["Location"] == "/notes"
    cookie = session_cookie_of(response)

    signed_in = await reflex.tab(cookies={settings.SESSION_COOKIE_NAME: cookie})
    await signed_in.send(LoginState.on_load_login, url="/login")
    await signed_in.send(LoginState.logout)
    await reflex.settle()
    assert navigations(signed_in)[0] == ("page", "/notes")
    response = browser_get(last_load(signed_in), cookie=cookie)
    assert response["Location"] == "/bye" and session_cookie_of(response) == ""


async def test_custom_session_auth_names(reflex: Reflex, make_user) -> None:
    user = make_user()
    tab = await reflex.tab()
    await tab.send(CustomAuth.set_who, value=user.username)
    await tab.send(CustomAuth.set_secret, value="pw")
    await tab.send(CustomAuth.enter, url="/login?next=/inbox")
    await reflex.settle()
    assert browser_get(last_load(tab))["Location"] == "/inbox"


@override_settings(ROOT_URLCONF="rdj_testproject.urls_without_reflex_django")
async def test_a_urlconf_without_the_package_views_still_signs_in(reflex: Reflex, make_user) -> None:
    """A project written for 0.2.3 never included `reflex_django.urls`: the hand-off
    goes to `/_reflex_django/session/` anyway, which the package serves itself."""
    user = make_user()
    tab = await reflex.tab()
    await tab.send(LoginState.submit_login_form, form_data={"username": user.username, "password": "pw"})
    await reflex.settle()
    assert (await reflex.state(tab, LoginState)).login_error == ""
    assert last_load(tab).startswith("/_reflex_django/session/?ticket=")
