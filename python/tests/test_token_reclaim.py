"""A tab keeps its Reflex token when the worker that held its socket was killed
(reflex_django.token_reclaim), with Reflex's own Redis token manager and a real Redis:
the killed worker is a separate process that gets SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from reflex.utils.token_manager import RedisTokenManager

from reflex_django import token_reclaim
from throwaway_servers import Redis

# A worker in another process: links a token, says so, then lives until killed.
WORKER = """
import asyncio, sys
import redis.asyncio
from reflex.utils.token_manager import RedisTokenManager
from reflex_django import token_reclaim

async def main(url, token, wrap, lets_go_after):
    manager = RedisTokenManager(redis.asyncio.from_url(url))
    if wrap == "yes":
        token_reclaim.reclaim(manager)
    assert await manager.link_token_to_sid(token, "sid-of-the-first-worker") is None
    print("linked", flush=True)
    if lets_go_after != "never":  # its socket closes, as after its front door died
        await asyncio.sleep(float(lets_go_after))
        await manager.disconnect_token(token, "sid-of-the-first-worker")
    await asyncio.sleep(3600)

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def redis_server() -> Iterator[Redis]:
    server = Redis()
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
async def manager(redis_server: Redis) -> AsyncIterator[Any]:
    """This process's worker, with the reclaim rule."""
    import redis.asyncio

    manager = RedisTokenManager(redis.asyncio.from_url(redis_server.url))
    assert token_reclaim.reclaim(manager)
    yield manager
    presence = manager._reflex_django_reclaim
    if presence.task is not None:
        presence.task.cancel()
    await manager.close()


def first_worker(url: str, token: str, *, reclaims: bool, lets_go_after: float | None = None) -> subprocess.Popen[str]:
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, url, token, "yes" if reclaims else "no", str(lets_go_after or "never")],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "linked", "the first worker did not link its token"
    return worker


def kill(worker: subprocess.Popen[str]) -> None:
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


async def owner(manager: Any, token: str) -> str | None:
    import pickle

    raw = await manager.redis.get(manager._get_redis_key(token))
    return None if raw is None else pickle.loads(raw).instance_id


async def test_a_tab_whose_worker_was_killed_keeps_its_token(manager: Any, redis_server: Redis, monkeypatch) -> None:
    monkeypatch.setattr(token_reclaim, "PATIENCE", 0.3)
    worker = first_worker(redis_server.url, "tab-1", reclaims=True)
    try:
        # While the first worker lives, a second tab with the same token is a duplicate
        # tab, as Reflex decides: it gets a token of its own.
        duplicate = await manager.link_token_to_sid("tab-1", "sid-of-a-duplicate-tab")
        assert duplicate not in (None, "tab-1")
        assert await owner(manager, "tab-1") not in (None, manager.instance_id)
    finally:
        kill(worker)
    # The worker is gone: the tab that reconnects here keeps its token.
    assert await manager.link_token_to_sid("tab-1", "sid-after-the-crash") is None
    assert await owner(manager, "tab-1") == manager.instance_id
    assert manager.token_to_sid["tab-1"] == "sid-after-the-crash"


async def test_a_link_waits_a_moment_for_a_worker_that_is_going(manager: Any, redis_server: Redis) -> None:
    """A replica's front door dies first; its Reflex workers follow an instant later,
    or see the socket close and drop the record. Either way the tab keeps its token."""
    for token, going in (("tab-5", "killed"), ("tab-6", "lets go")):
        worker = first_worker(redis_server.url, token, reclaims=True, lets_go_after=0.5 if going == "lets go" else None)
        try:
            link = asyncio.ensure_future(manager.link_token_to_sid(token, "sid-after-the-crash"))
            await asyncio.sleep(0.3)
            assert not link.done(), f"{going}: linked before the first worker went"
            if going == "killed":
                kill(worker)
            assert await asyncio.wait_for(link, 5) is None, going
            assert await owner(manager, token) == manager.instance_id, going
        finally:
            if worker.poll() is None:
                kill(worker)


async def test_a_worker_without_the_rule_is_left_to_reflex(manager: Any, redis_server: Redis) -> None:
    """No marker: the owner may be a live worker of an older deployment; Reflex's
    duplicate-tab rule decides, even after that worker died."""
    worker = first_worker(redis_server.url, "tab-2", reclaims=False)
    kill(worker)
    renamed = await manager.link_token_to_sid("tab-2", "sid-after-the-crash")
    assert renamed not in (None, "tab-2")


async def test_a_worker_that_restarts_its_server_is_present_under_its_new_id(manager: Any) -> None:
    """Reflex gives a worker a fresh instance id when its server starts; the presence
    follows it, so this worker's new records are not taken for orphans."""
    assert await manager.link_token_to_sid("tab-3", "sid-1") is None
    manager._reset_instance_id()
    assert await manager.link_token_to_sid("tab-4", "sid-2") is None
    listeners = dict(await manager.redis.pubsub_numsub(token_reclaim.channel(manager.instance_id)))
    assert listeners == {token_reclaim.channel(manager.instance_id).encode(): 1}
    assert await manager.redis.exists(token_reclaim.marker(manager.instance_id))
