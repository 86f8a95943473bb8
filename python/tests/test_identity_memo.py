"""The bridge's memo of verified sessions (reflex_django.identity): reused between
events, and never stale. Each revocation is made from another process (a second
Django process on the same database, as `manage.py shell` or the Django server
would be); the very next event must see it."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import reflex as rx
from django.conf import settings
from django.http import HttpRequest
from django.test import override_settings

from dbthread import in_db_thread
from other_process import OtherProcess
from reflex_django import identity
from reflex_django.auth_changes import change_log_path
from reflex_django.changelog import ChangeLog, Tail, session_record
from reflex_django.context import current_session, current_user
from reflex_django.event_request import EventRequest
from reflex_harness import Reflex, bridged_app, running

SESSION = settings.SESSION_COOKIE_NAME
PERM = "notes.add_note"
seen: list[dict[str, Any]] = []


class MemoProbeState(rx.State):
    @rx.event
    async def record(self) -> None:
        user = current_user()
        session = current_session()
        seen.append(
            {
                "user": user.get_username() if user.is_authenticated else None,
                "can_add": await user.ahas_perm(PERM),
                "colour": await session.aget("colour") if session is not None else None,
                "first_name": getattr(user, "first_name", None),
            }
        )

    @rx.event
    async def paint(self, colour: str) -> None:
        session = current_session()
        assert session is not None
        await session.aset("colour", colour)
        await session.asave()

    @rx.event
    async def scribble(self) -> None:
        current_user().first_name = "changed in a handler, never saved"


@pytest.fixture(scope="module")
def other() -> Iterator[OtherProcess]:
    process = OtherProcess()
    yield process
    process.close()


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The session keys verified against the database (the memo's misses)."""
    calls: list[str] = []
    real = identity.verify

    def counting(request: Any, engine: Any, session_key: str, memoize: bool) -> Any:
        calls.append(session_key)
        return real(request, engine, session_key, memoize)

    monkeypatch.setattr(identity, "verify", counting)
    return calls


@pytest.fixture
async def reflex() -> AsyncIterator[Reflex]:
    seen.clear()
    async with running(bridged_app()) as r:
        yield r


async def _event(reflex: Reflex, key: str, handler: Any = None, **payload: Any) -> dict[str, Any]:
    tab = await reflex.tab(cookies={SESSION: key})
    await tab.send(handler or MemoProbeState.record, **payload)
    await reflex.settle()
    return seen[-1] if seen else {}


def test_the_memo_is_on_in_the_tests_project() -> None:
    path = change_log_path()
    assert path == Path(os.environ["RDJ_TEST_DB"] + ".reflex-django-auth.log")
    assert identity.status() == f"on: change log {path}"


async def test_a_verified_session_is_reused(reflex: Reflex, make_user, login, verifications) -> None:
    user = make_user()
    key = login(user)
    for _ in range(3):
        assert (await _event(reflex, key))["user"] == user.username
    assert verifications == [key]  # one trip to the database, then none


async def test_each_event_gets_its_own_user_instance(reflex: Reflex, make_user, login) -> None:
    user = make_user(first_name="Ada")
    key = login(user)
    await _event(reflex, key)
    await _event(reflex, key, MemoProbeState.scribble)
    assert (await _event(reflex, key))["first_name"] == "Ada"


async def test_session_writes_save_and_are_seen(reflex: Reflex, make_user, login, verifications) -> None:
    key = login(make_user())
    assert (await _event(reflex, key))["colour"] is None
    await _event(reflex, key, MemoProbeState.paint, colour="teal")
    assert (await _event(reflex, key))["colour"] == "teal"

    def stored() -> Any:
        from django.contrib.sessions.backends.db import SessionStore

        return SessionStore(key).get("colour")

    assert in_db_thread(stored) == "teal"
    # Verified at the first event and again after its own write, which is a change.
    assert verifications == [key, key]


REVOCATIONS = {
    "logout": """
from django.contrib.auth import get_user, logout
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest
request = HttpRequest()
request.session = SessionStore(KEY)
request.user = get_user(request)
logout(request)
""",
    "password-change": """
from django.contrib.auth.models import User
user = User.objects.get(username=NAME)
user.set_password("another password")
user.save()
""",
    "session-deleted": """
from django.contrib.sessions.models import Session
Session.objects.filter(session_key=KEY).delete()
""",
    "deactivated": """
from django.contrib.auth.models import User
user = User.objects.get(username=NAME)
user.is_active = False
user.save()
""",
    "user-deleted": """
from django.contrib.auth.models import User
User.objects.get(username=NAME).delete()
""",
    "deactivated-through-a-proxy-model": """
from rdj_testproject.notes.models import StaffMember
user = StaffMember.objects.get(username=NAME)
user.is_active = False
user.save()
""",
    "deleted-through-a-proxy-model": """
from rdj_testproject.notes.models import StaffMember
StaffMember.objects.get(username=NAME).delete()
""",
    "deactivated-in-a-transaction-whose-commit-hook-fails": """
from django.contrib.auth.models import User
from django.db import transaction
try:
    with transaction.atomic():
        transaction.on_commit(lambda: 1 / 0)  # the application's hook, run first, raises
        user = User.objects.get(username=NAME)
        user.is_active = False
        user.save()
except ZeroDivisionError:
    pass
""",
    "password-changed-with-autocommit-off": """
from django.contrib.auth.models import User
from django.db import transaction
transaction.set_autocommit(False)
try:
    user = User.objects.get(username=NAME)
    user.set_password("another password")
    user.save()
    transaction.commit()
finally:
    transaction.set_autocommit(True)
""",
}


@pytest.mark.parametrize("kind", REVOCATIONS)
async def test_a_revocation_elsewhere_is_seen_by_the_next_event(
    reflex: Reflex, make_user, login, other: OtherProcess, verifications, kind: str
) -> None:
    user = make_user()
    key = login(user)
    assert (await _event(reflex, key))["user"] == user.username
    assert (await _event(reflex, key))["user"] == user.username
    assert verifications == [key]  # served from the memo before the change
    other.run(f"KEY, NAME = {key!r}, {user.username!r}\n" + REVOCATIONS[kind])
    assert (await _event(reflex, key))["user"] is None


PERMISSION_CHANGES = {
    "user-permission-added": (
        "user.user_permissions.add(perm)",
        True,
    ),
    "group-permission-added": (
        "group.permissions.add(perm)",
        True,
    ),
    "added-to-a-group-from-the-group-side": (
        "group.permissions.add(perm); user.groups.remove(group); group.user_set.add(user)",
        True,
    ),
    "removed-from-the-group": (
        "group.permissions.add(perm); user.groups.remove(group)",
        False,
    ),
}


@pytest.mark.parametrize("kind", PERMISSION_CHANGES)
async def test_a_permission_change_elsewhere_is_seen_by_the_next_event(
    reflex: Reflex, make_user, login, other: OtherProcess, verifications, kind: str
) -> None:
    user = make_user(groups=(f"group-{kind}",))
    key = login(user)
    before = await _event(reflex, key)
    assert (before["user"], before["can_add"]) == (user.username, False)
    assert (await _event(reflex, key))["user"] == user.username
    assert verifications == [key]  # the session is served from the memo...
    change, expected = PERMISSION_CHANGES[kind]
    setup = (
        "from django.contrib.auth.models import Group, Permission, User\n"
        f"user = User.objects.get(username={user.username!r})\n"
        f"group = Group.objects.get(name={f'group-{kind}'!r})\n"
        "perm = Permission.objects.get(content_type__app_label='notes', codename='add_note')\n"
    )
    if not expected:  # first the permission through the group, seen...
        other.run(setup + "group.permissions.add(perm)")
        assert (await _event(reflex, key))["can_add"] is True
    other.run(setup + change)
    # ...but permissions are never memoized: each event's fresh user asks the database.
    assert (await _event(reflex, key))["can_add"] is expected


async def test_changes_behind_the_signals_are_seen_once_announced(
    reflex: Reflex, make_user, login, other: OtherProcess
) -> None:
    user = make_user()
    key = login(user)
    assert (await _event(reflex, key))["user"] == user.username
    update = f"from django.contrib.auth.models import User\nUser.objects.filter(pk={user.pk}).update(is_active=False)\n"
    other.run(update)  # QuerySet.update sends no signal: the memo cannot know...
    assert (await _event(reflex, key))["user"] == user.username
    other.run(f"from reflex_django import auth_changed\nauth_changed(user={user.pk})")  # ...until told
    assert (await _event(reflex, key))["user"] is None


async def test_the_memo_forgets_after_its_maximum_age(reflex: Reflex, make_user, login, other: OtherProcess) -> None:
    user = make_user()
    key = login(user)
    with override_settings(REFLEX_DJANGO_AUTH_MEMO_MAX_AGE=0.2):
        assert (await _event(reflex, key))["user"] == user.username
        other.run(
            f"from django.contrib.auth.models import User\nUser.objects.filter(pk={user.pk}).update(is_active=False)"
        )
        await asyncio.sleep(0.3)
        assert (await _event(reflex, key))["user"] is None


@pytest.mark.parametrize(
    "setting",
    [
        pytest.param({"REFLEX_DJANGO_AUTH_CHANGE_LOG": "/nonexistent-dir/auth-changes"}, id="log-unreadable"),
        pytest.param({"REFLEX_DJANGO_AUTH_CHANGE_LOG": None}, id="no-log"),
        pytest.param({"REFLEX_DJANGO_AUTH_MEMO_MAX_AGE": 0}, id="memo-off"),
        pytest.param({"SESSION_ENGINE": "django.contrib.sessions.backends.signed_cookies"}, id="cookie-sessions"),
    ],
)
async def test_without_the_memo_every_event_is_verified(
    reflex: Reflex, make_user, login, other: OtherProcess, verifications, setting: dict[str, Any], caplog
) -> None:
    user = make_user()
    with override_settings(**setting):
        key = login(user)
        with caplog.at_level(logging.WARNING, logger="reflex_django"):
            assert (await _event(reflex, key))["user"] == user.username
            assert (await _event(reflex, key))["user"] == user.username
        assert identity.status().startswith(("off: ", "down: "))
        # A change no channel reports (QuerySet.update sends no signal) is seen at once.
        other.run(
            f"from django.contrib.auth.models import User\nUser.objects.filter(pk={user.pk}).update(is_active=False)"
        )
        assert (await _event(reflex, key))["user"] is None
    assert verifications == [key, key, key]
    if "log-unreadable" in str(setting):
        assert "cannot be read" in caplog.text and "verified against the database" in caplog.text


async def test_a_custom_backend_is_verified_every_event(reflex: Reflex, make_user, verifications) -> None:
    backend = "rdj_testproject.backends.VettedBackend"
    user = make_user(email="custom@example.com")
    backends = [*settings.AUTHENTICATION_BACKENDS, backend]
    with override_settings(AUTHENTICATION_BACKENDS=backends):
        key = in_db_thread(_login_with_backend, user, backend)
        assert (await _event(reflex, key))["user"] == user.username
        assert (await _event(reflex, key))["user"] == user.username
    assert verifications == [key, key]


def _login_with_backend(user: Any, backend: str) -> str:
    from django.contrib.auth import login
    from django.contrib.sessions.backends.db import SessionStore

    request = HttpRequest()
    request.session = SessionStore()
    login(request, user, backend=backend)
    request.session.save()
    return str(request.session.session_key)


def test_an_event_request_has_every_attribute_of_a_django_request() -> None:
    assert set(vars(HttpRequest())) <= set(vars(EventRequest()))


# --- the change log and the memo, without Reflex ---------------------------------


def test_tail_reads_complete_lines_and_starts_over_when_the_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "log"
    tail = Tail(path)
    assert tail.poll() is None  # first look: created, nothing known
    with path.open("a") as file:
        file.write("s:one\nu:two\npartial")
    assert tail.poll() == ["s:one", "u:two"]
    with path.open("a") as file:
        file.write("-line\n")
    assert tail.poll() == ["partial-line"]
    assert tail.poll() == []
    ChangeLog(path).rotate()  # a new file under the same name
    assert tail.poll() is None
    ChangeLog(path).publish(["*"])
    assert tail.poll() == ["*"]
    path.write_text("")  # truncated in place
    assert tail.poll() is None
    ChangeLog(path).publish(["u:a"])
    assert tail.poll() == ["u:a"]
    ChangeLog(path).publish(["u:b"] * 30)
    assert len(tail.poll() or []) == 30
    # Emptied and written again past where the reader was, before it looked: its
    # header is not there any more, so it starts over instead of skipping records.
    path.write_text("")
    ChangeLog(path).publish(["s:late"] * 100)
    assert tail.poll() is None
    path.unlink()
    assert tail.poll() is None and path.exists()  # recreated


def test_a_writer_that_cannot_append_makes_readers_start_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    path = tmp_path / "log"
    tail = Tail(path)
    tail.poll()

    def full_disk(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    with caplog.at_level(logging.ERROR, logger="reflex_django"):
        ChangeLog(path).publish(["s:x"])
    monkeypatch.undo()
    assert not path.exists()
    assert "No space left on device" in caplog.text and "hint:" in caplog.text
    assert tail.poll() is None


def test_an_unreadable_log_is_reported_down(tmp_path: Path) -> None:
    memo = identity.IdentityMemo(Tail(tmp_path / "missing-dir" / "log"), max_age=60)
    assert memo.lookup("key") == (None, None)
    assert memo.down_reason is not None


def test_a_change_during_verification_is_not_remembered(tmp_path: Path) -> None:
    path = tmp_path / "log"
    memo = identity.IdentityMemo(Tail(path), max_age=60)
    found, ticket = memo.lookup("key")
    assert found is None and ticket is not None
    # While this event reads the database, another process changes the session...
    ChangeLog(path).publish([session_record("key")])
    memo.lookup("another key")  # ...and another event of this process learns it.
    memo.remember(ticket, identity.Identity(session_record("key"), None, float("inf"), 0.0))
    assert memo.lookup("key")[0] is None


def test_remembered_until_a_record_names_it(tmp_path: Path) -> None:
    import time

    path = tmp_path / "log"
    memo = identity.IdentityMemo(Tail(path), max_age=60)
    _, ticket = memo.lookup("key")
    assert ticket is not None
    known = identity.Identity(session_record("key"), None, float("inf"), time.monotonic())
    memo.remember(ticket, known)
    assert memo.lookup("key")[0] is known
    ChangeLog(path).publish([session_record("other")])
    assert memo.lookup("key")[0] is known
    ChangeLog(path).publish([session_record("key")])
    assert memo.lookup("key")[0] is None


def test_a_change_in_progress_is_verified_until_it_commits(tmp_path: Path) -> None:
    import time

    path = tmp_path / "log"
    memo = identity.IdentityMemo(Tail(path), max_age=0.5)
    record = session_record("key")
    _, ticket = memo.lookup("key")
    assert ticket is not None
    memo.remember(ticket, identity.Identity(record, None, float("inf"), time.monotonic()))
    ChangeLog(path).publish(["?" + record])
    assert memo.lookup("key") == (None, None)  # verify, remember nothing
    assert memo.lookup("key") == (None, None)
    ChangeLog(path).publish([record])  # committed
    _, ticket = memo.lookup("key")
    assert ticket is not None
    # A change whose commit is never announced (rolled back, a lost hook) counts for
    # the memo's maximum age.
    ChangeLog(path).publish(["?*"])
    assert memo.lookup("key") == (None, None)
    time.sleep(0.6)
    assert memo.lookup("key")[1] is not None


def test_the_memo_keeps_copies_of_mutable_values(make_user) -> None:
    user = make_user()
    user.first_name = ["a", "list"]  # as a JSONField's value would be
    values, mutable = identity._snapshot(user) or ({}, ())
    assert mutable == ("first_name",)
    user.first_name.append("changed by the handler of the verifying event")
    known = identity.Identity("s:x", None, float("inf"), 0.0, type(user), values, "default", "u:x", mutable)
    first = known.user()
    assert first.first_name == ["a", "list"]
    first.first_name.append("changed by a later handler")
    assert known.user().first_name == ["a", "list"]


def test_a_model_with_its_own_from_db_is_built_by_it(make_user) -> None:
    from rdj_testproject.notes.models import StaffMember

    user = make_user()
    values, mutable = identity._snapshot(user) or ({}, ())
    known = identity.Identity("s:x", None, float("inf"), 0.0, StaffMember, values, "default", "u:x", mutable)
    built = known.user()
    assert type(built) is StaffMember and built.pk == user.pk
    assert built._loaded_values["username"] == user.username
    assert not built._state.adding and built._state.db == "default"


def test_deleting_an_expired_session_publishes_nothing(make_user, login) -> None:
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    key = login(make_user())
    path = change_log_path()
    assert path is not None

    def expire_and_delete() -> None:
        session = Session.objects.get(session_key=key)
        session.expire_date = timezone.now() - timedelta(seconds=1)
        session.save()  # a change: published
        before = path.stat().st_size
        Session.objects.filter(session_key=key).delete()  # as clearsessions does
        assert path.stat().st_size == before

    in_db_thread(expire_and_delete)


@pytest.mark.parametrize(
    ("setting", "error"),
    [
        ({"REFLEX_DJANGO_AUTH_CHANGE_LOG": "relative/auth.log"}, "reflex_django.E002"),
        ({"REFLEX_DJANGO_AUTH_MEMO_MAX_AGE": "60"}, "reflex_django.E003"),
        ({"REFLEX_DJANGO_AUTH_MEMO_MAX_AGE": -1}, "reflex_django.E003"),
    ],
)
def test_bad_bridge_settings_fail_the_checks(setting: dict[str, Any], error: str) -> None:
    from reflex_django.checks import check_event_bridge_settings

    assert check_event_bridge_settings() == []
    with override_settings(**setting):
        [found] = check_event_bridge_settings()
    assert found.id == error and found.hint
