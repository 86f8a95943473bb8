"""Live updates (reflex_django.live): a change to watched rows runs the refresh handler
again for each subscribed client, as that client; from this process without Redis,
and from another process through Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import reflex as rx
from django.conf import settings
from django.test import override_settings

from dbthread import in_db_thread
from other_process import OtherProcess
from reflex_django import live
from reflex_django.context import current_user
from reflex_harness import Reflex, bridged_app, running
from throwaway_servers import Redis

SESSION = settings.SESSION_COOKIE_NAME
seen: list[tuple[str | None, int, float]] = []


@live.live_updates("notes.Note", refresh="recount")
class LiveNotesState(rx.State):
    count: int = 0
    error: str = ""

    async def _count(self) -> None:
        from rdj_testproject.notes.models import Note

        user = current_user()
        name = user.get_username() if user.is_authenticated else None
        self.count = await Note.objects.filter(user_id=user.pk).acount() if name else 0
        seen.append((name, self.count, time.monotonic()))

    @rx.event
    async def load(self) -> None:
        """The page's on_load: starts afresh."""
        self.error = ""
        await self._count()

    @rx.event
    async def recount(self) -> None:
        """What a change runs: the rows only."""
        await self._count()

    @rx.event
    def complain(self) -> None:
        self.error = "the title is required"


@pytest.fixture
async def reflex() -> AsyncIterator[Reflex]:
    seen.clear()
    live._subscribers.clear()
    async with running(bridged_app()) as r:
        yield r
    if live._listener is not None:
        live._listener.cancel()
    live._listener = live._local = live._local_loop = None


def _add_note(user: Any, title: str) -> None:
    from rdj_testproject.notes.models import Note

    in_db_thread(Note.objects.create, user=user, title=title)


async def _until(predicate: Any, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {seen}")
        await asyncio.sleep(0.01)


def test_a_state_without_the_handler_is_refused() -> None:
    with pytest.raises(TypeError, match="no event handler 'nope'"):

        @live.live_updates("notes.Note", refresh="nope")
        class Broken(rx.State):
            pass


async def test_a_change_here_refreshes_each_subscribed_client_as_itself(reflex: Reflex, make_user, login) -> None:
    alice, bob = make_user(), make_user()
    tab_a = await reflex.tab(cookies={SESSION: login(alice)})
    tab_b = await reflex.tab(cookies={SESSION: login(bob)})
    idle = await reflex.tab(cookies={SESSION: login(bob)})  # never ran `load`: not subscribed
    for tab in (tab_a, tab_b):
        await tab.send(LiveNotesState.load)
    await reflex.settle()
    assert sorted((name, count) for name, count, _ in seen) == sorted([(alice.username, 0), (bob.username, 0)])
    seen.clear()
    _add_note(alice, "live one")
    await _until(lambda: len(seen) >= 2, "both subscribed clients to refresh")
    await reflex.settle()
    # Each refresh ran as its own client: only Alice sees her note.
    assert sorted((name, count) for name, count, _ in seen) == sorted([(alice.username, 1), (bob.username, 0)])
    assert (await reflex.state(tab_a, LiveNotesState)).count == 1
    assert (await reflex.state(idle, LiveNotesState)).count == 0 and len(seen) == 2


async def test_any_handler_of_the_state_subscribes_and_the_refresh_leaves_the_rest(
    reflex: Reflex, make_user, login
) -> None:
    """A field error the user is looking at survives a refresh caused by someone
    else's change: the refresh handler reloads the rows only."""
    user = make_user()
    tab = await reflex.tab(cookies={SESSION: login(user)})
    await tab.send(LiveNotesState.complain)  # not the refresh handler, nor `load`
    await reflex.settle()
    _add_note(user, "from the admin")
    await _until(lambda: bool(seen), "the refresh of a client that ran another handler")
    await reflex.settle()
    state = await reflex.state(tab, LiveNotesState)
    assert (state.count, state.error) == (1, "the title is required")


async def test_changes_close_together_are_delivered_once(reflex: Reflex, make_user, login) -> None:
    user = make_user()
    tab = await reflex.tab(cookies={SESSION: login(user)})
    await tab.send(LiveNotesState.load)
    await reflex.settle()
    seen.clear()
    for n in range(5):
        _add_note(user, f"burst {n}")
    await _until(lambda: seen and seen[-1][1] == 5, "the refresh after the burst")
    await asyncio.sleep(0.2)
    assert len(seen) <= 2, seen


@pytest.fixture(scope="module")
def redis() -> Iterator[Redis]:
    server = Redis()
    server.start()
    yield server
    server.remove()


async def test_a_change_in_another_process_arrives_through_redis(reflex: Reflex, make_user, login, redis) -> None:
    user = make_user()
    other = OtherProcess(env={"REFLEX_REDIS_URL": redis.url})
    try:
        with override_settings(REFLEX_DJANGO_LIVE_REDIS_URL=redis.url):
            tab = await reflex.tab(cookies={SESSION: login(user)})
            await tab.send(LiveNotesState.load)
            await reflex.settle()
            await asyncio.sleep(0.3)  # the listener subscribes
            seen.clear()
            started = time.monotonic()
            other.run(
                "from django.contrib.auth.models import User\n"
                "from rdj_testproject.notes.models import Note\n"
                f"Note.objects.create(user=User.objects.get(pk={user.pk}), title='from elsewhere')"
            )
            await _until(lambda: bool(seen), "the refresh from another process")
            print(f"a change in another process reached the client in {seen[0][2] - started:.3f}s")
            assert seen[0][:2] == (user.username, 1)
    finally:
        other.close()
