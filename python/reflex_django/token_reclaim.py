"""A tab keeps its Reflex token, and so its state, when the worker that held its
socket dies.

Reflex's Redis token manager records, for each token, which worker ("instance") holds
the tab's socket, and keeps that record for `redis_token_expiration` (an hour). A tab
that connects with a token that has a record is taken for a duplicate tab and handed a
new token, so its state starts afresh. A worker that stops cleanly deletes its
records, but one that is SIGKILLed, or whose machine dies, leaves them behind: every
tab it served would lose its state when it reconnects to another worker or replica.

So each worker holds, for as long as it runs, a Redis pub/sub subscription to a channel
named after its instance id, and a marker key saying that it does. Redis drops a
subscription as soon as its connection closes, which the kernel does when the process
dies: "a marker but no subscriber" is a prompt, exact sign that the owner is gone.
Before Reflex links a token, a record whose owner is gone in that sense is deleted
(only if it is still the same record), and Reflex links the tab under its own token. A
record whose owner still runs is given a moment to go (see `release_if_orphaned`).
An owner without a marker (a worker that does not run this code, e.g. during a rolling
upgrade) is left to Reflex's rule.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import pickle
from typing import Any

from reflex_django._backoff import Backoff

logger = logging.getLogger("reflex_django")

_PREFIX = "reflex_django:worker:"
# A marker must outlive every record its worker wrote (records live
# `redis_token_expiration` from their last write): twice that, refreshed every sixth.
MARKER_TTL = 3600
# How long a link waits for this worker's own subscription (first link only).
SUBSCRIBE_DEADLINE = 2.0
# How long a link waits for a live worker to let go of the token's record, and how
# often it looks; a duplicate tab gets its new token after this long.
PATIENCE = 2.0
RECHECK = 0.05

# Delete KEYS[1] only if it still holds ARGV[1]: a record a live worker wrote in the
# meantime is never removed.
_DELETE_IF_SAME = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def channel(instance_id: str) -> str:
    return f"{_PREFIX}{instance_id}"


def marker(instance_id: str) -> str:
    return f"{_PREFIX}{instance_id}:present"


def install(app: Any) -> bool:
    """Give the app's Redis token manager the reclaim rule. Returns whether it applies:
    only Reflex's Redis token manager has records that other workers can leave."""
    try:
        namespace = app.event_namespace
    except Exception:  # an app without state has no event namespace
        return False
    return reclaim(getattr(namespace, "_token_manager", None))


def reclaim(manager: Any) -> bool:
    """Wrap `manager.link_token_to_sid` with the reclaim rule (once)."""
    if manager is None:
        return False
    if getattr(manager, "_reflex_django_reclaim", None) is not None:
        return True
    if not all(hasattr(manager, name) for name in ("redis", "instance_id", "_get_redis_key", "link_token_to_sid")):
        return False  # the local token manager, or a Reflex whose internals moved
    presence = _Presence(manager)
    link = manager.link_token_to_sid

    async def link_token_to_sid(token: str, sid: str) -> str | None:
        if await presence.ensure():
            try:
                await release_if_orphaned(manager, token)
            except Exception as exc:  # Redis trouble: Reflex's own rule decides
                logger.warning("reflex-django: could not check a token's previous owner (%s)", exc)
        linked: str | None = await link(token, sid)
        return linked

    manager.link_token_to_sid = link_token_to_sid
    manager._reflex_django_reclaim = presence
    return True


async def release_if_orphaned(manager: Any, token: str) -> bool:
    """Make way for linking `token` here when another worker's record holds it.

    A worker that is gone (a marker but no subscriber) has its record deleted. A worker
    that still runs may be about to let go: when a replica's front door dies first, its
    Reflex workers see the socket close an instant later and delete their record, or
    die themselves. So for up to `PATIENCE` the record is looked at again; a record
    that outlives that belongs to a live tab, and Reflex's duplicate-tab rule decides.
    """
    key = manager._get_redis_key(token)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while True:
        raw = await manager.redis.get(key)
        if not raw:
            return False
        try:
            owner = pickle.loads(raw).instance_id  # Reflex's own record, as Reflex reads it
        except Exception:
            return False
        if owner == manager.instance_id:
            return False
        async with manager.redis.pipeline(transaction=False) as pipe:
            pipe.exists(marker(owner))
            pipe.pubsub_numsub(channel(owner))
            marked, [(_, listeners)] = await pipe.execute()
        if not marked:
            return False  # not a worker that runs this code: Reflex's rule
        if not listeners:
            if not await manager.redis.eval(_DELETE_IF_SAME, 1, key, raw):
                continue  # it changed meanwhile: look again
            cached = manager.token_to_socket.get(token)
            if cached is not None and cached.instance_id == owner:
                manager.token_to_socket.pop(token, None)
            logger.info("reflex-django: a tab reconnected after its worker stopped; it keeps its state")
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(RECHECK)


class _Presence:
    """This worker's subscription and marker, kept for the current instance id (Reflex
    gives a worker a fresh one when its server starts) on the current event loop."""

    def __init__(self, manager: Any) -> None:
        self.manager = manager
        self.instance_id: str | None = None
        self.task: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()

    async def ensure(self) -> bool:
        instance_id = self.manager.instance_id
        loop = asyncio.get_running_loop()
        task = self.task
        if task is None or task.done() or task.get_loop() is not loop or self.instance_id != instance_id:
            if task is not None and not task.done() and task.get_loop() is loop:
                task.cancel()
            self.instance_id = instance_id
            self.subscribed = asyncio.Event()
            self.task = loop.create_task(
                self._hold(instance_id, self.subscribed),
                name="reflex_django worker presence",
                context=contextvars.Context(),
            )
        try:
            await asyncio.wait_for(self.subscribed.wait(), SUBSCRIBE_DEADLINE)
        except TimeoutError:
            return False
        return True

    async def _hold(self, instance_id: str, subscribed: asyncio.Event) -> None:
        redis = self.manager.redis
        backoff = Backoff()
        while True:
            try:
                async with redis.pubsub() as pubsub:
                    await pubsub.subscribe(channel(instance_id))
                    while (await pubsub.get_message(timeout=SUBSCRIBE_DEADLINE) or {}).get("type") != "subscribe":
                        pass
                    ttl = 2 * max(int(getattr(self.manager, "token_expiration", 0) or 0), MARKER_TTL)
                    while True:
                        # The marker goes up only once the subscription is in place.
                        await redis.set(marker(instance_id), b"1", ex=ttl)
                        subscribed.set()
                        backoff.reset()
                        # Nobody publishes here; reading keeps the connection checked.
                        await pubsub.get_message(timeout=ttl / 6)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                subscribed.clear()
                await backoff.wait("lost this worker's Redis presence", exc)
