"""Live updates: when rows of a Django model change — in the admin, an API view, a
shell, another replica — every browser showing them refreshes.

    from reflex_django.live import live_updates

    @live_updates(Note, refresh="load_notes")
    class NotesState(crud_mixin(...)):
        ...

`refresh` is an event handler of the state that loads what the page shows. Each client
whose page ran an event handler of the state (its `on_load`, say) is subscribed; after
a change to a `Note`, `refresh` runs for each subscribed client, as that client (the
event bridge gives it the client's Django user), so owner scoping and permissions apply
as on any event. Name a handler that only reloads the rows, not one that also resets
the page (clears a form's errors): it may run while the user is typing. With
`crud_mixin`, set `refresh_method="refresh_notes"` and use that name.

How a change travels:

- Every process whose settings list `reflex_django` in INSTALLED_APPS publishes the
  model label of each row saved or deleted (after the commit; not sessions) to the
  Redis channel `reflex_django:changes`, when a Redis URL is known:
  REFLEX_DJANGO_LIVE_REDIS_URL, else REFLEX_REDIS_URL (the Redis of Reflex's state).
- Each Reflex worker subscribes to that channel and refreshes the clients connected to
  it; with several replicas, every one does, so each browser is reached once.
- Without Redis, changes made in the Reflex process itself are delivered (its own
  handlers, an in-process Django); changes from other processes are not.

Changes arriving close together are delivered once (within ~50 ms). Delivery is best
effort: if Redis is down, pages simply do not refresh until it is back (logged).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["live_updates", "publish_change"]

logger = logging.getLogger(__name__)

CHANNEL = "reflex_django:changes"
# Changes within this window are delivered together.
COALESCE = 0.05
# Models whose rows change on nearly every request: never published.
_QUIET = frozenset({"sessions.session", "admin.logentry", "migrations.migration"})

S = TypeVar("S")

# model label -> the full names of the refresh events that watch it
_watchers: dict[str, set[str]] = {}
# state full name -> the refresh event of that state (looked up on each event)
_refresh_of_state: dict[str, str] = {}
# refresh event name -> the tokens of this worker's clients that ran it
_subscribers: dict[str, set[str]] = {}
_listener: asyncio.Task[None] | None = None
_local: asyncio.Queue[str] | None = None
_local_loop: asyncio.AbstractEventLoop | None = None


def live_updates(*models: Any, refresh: str) -> Callable[[S], S]:
    """Class decorator for an `rx.State`: run `refresh` for every client that ran an
    event handler of the state, whenever a row of one of `models` (model classes or
    "app_label.Model") changes in any process."""
    if not models:
        raise TypeError("live_updates() needs at least one model")

    def register(state: S) -> S:
        from reflex_base.event import EventHandler
        from reflex_base.utils.format import format_event_handler

        handler = getattr(state, refresh, None)
        if not isinstance(handler, EventHandler):
            raise TypeError(
                f"{getattr(state, '__name__', state)} has no event handler {refresh!r} to run on changes; "
                "hint: name the handler that loads what the page shows, e.g. refresh='load_notes'"
            )
        event = format_event_handler(handler)  # the name the browser sends it by
        for model in models:
            _watchers.setdefault(_label(model), set()).add(event)
        _refresh_of_state[event.rpartition(".")[0]] = event
        return state

    return register


def _label(model: Any) -> str:
    if isinstance(model, str):
        return model.lower()
    meta = model._meta
    return f"{meta.app_label}.{meta.model_name}"


# --- the Reflex side: who to refresh, and the listener -----------------------------


def note_event(app: Any, token: str, event_name: str) -> None:
    """The event bridge saw `event_name` for `token` (on the event loop): subscribe the
    client if the event belongs to a state with live updates, and make sure this worker
    listens."""
    if not _refresh_of_state:
        return
    refresh = _refresh_of_state.get(event_name.rpartition(".")[0])
    if refresh is not None:
        _subscribers.setdefault(refresh, set()).add(token)
    _ensure_listener(app)


def _ensure_listener(app: Any) -> None:
    global _listener, _local, _local_loop
    loop = asyncio.get_running_loop()
    if _listener is not None and not _listener.done() and _listener.get_loop() is loop:
        return
    url = _redis_url()
    if url is None:
        _local, _local_loop = asyncio.Queue(), loop
        listen = _listen_locally(app, _local)
    else:
        listen = _listen_to_redis(app, url)
    # A context of its own: not the one of the event that started it (its request,
    # its Reflex event context); refresh events get the event processor's root one.
    _listener = loop.create_task(listen, name="reflex_django live updates", context=contextvars.Context())


async def _listen_locally(app: Any, queue: asyncio.Queue[str]) -> None:
    while True:
        labels = {await queue.get()}
        await asyncio.sleep(COALESCE)
        while not queue.empty():
            labels.add(queue.get_nowait())
        await _refresh(app, labels)


async def _listen_to_redis(app: Any, url: str) -> None:
    import redis.asyncio as redis

    from reflex_django._backoff import Backoff

    backoff = Backoff()
    while True:
        client = redis.from_url(url)
        try:
            pubsub = client.pubsub()
            await pubsub.subscribe(CHANNEL)
            backoff.reset()
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=30)
                if message is None:
                    continue
                labels = {_decode(message)}
                deadline = time.monotonic() + COALESCE
                while (left := deadline - time.monotonic()) > 0:
                    more = await pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
                    if more is not None:
                        labels.add(_decode(more))
                await _refresh(app, labels - {""})
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await backoff.wait("live updates lost their Redis connection", exc)
        finally:
            await client.aclose()


def _local_tokens(namespace: Any) -> set[str]:
    """The tokens of the clients connected to this worker. Reflex's Redis token manager
    also knows sockets of other workers and replicas (each record names its owner);
    those clients are refreshed by their own worker."""
    if namespace is None:
        return set()
    manager = getattr(namespace, "_token_manager", None)
    sockets = getattr(manager, "token_to_socket", None)
    me = getattr(manager, "instance_id", None)
    if isinstance(sockets, dict) and me is not None:
        return {token for token, record in sockets.items() if getattr(record, "instance_id", me) == me}
    return set(namespace.token_to_sid)


def _decode(message: dict[str, Any]) -> str:
    try:
        return str(json.loads(message["data"])["model"])
    except Exception:
        return ""


async def _refresh(app: Any, labels: set[str]) -> None:
    from reflex_base.event import Event

    events = {event for label in labels for event in _watchers.get(label, ())}
    connected = _local_tokens(app.event_namespace)
    for event_name in events:
        tokens = _subscribers.get(event_name, set())
        for token in list(tokens):
            if token not in connected:  # the tab closed (or is another worker's)
                tokens.discard(token)
                continue
            try:
                await app.event_processor.enqueue(token, Event(name=event_name))
            except Exception:
                logger.exception("reflex-django: could not refresh a client after a change")


# --- the Django side: publishing changes ------------------------------------------


def publish_change(model: Any) -> None:
    """Announce that rows of `model` (a class or "app_label.model") changed, e.g. after
    a `QuerySet.update()`, which sends no signal. Published when the current
    transaction commits."""
    label = _label(model)
    _after_commit(lambda: _send(label), None)


_redis_client: Any = None
_redis_lock = threading.Lock()


def _redis_url() -> str | None:
    from django.conf import settings

    return getattr(settings, "REFLEX_DJANGO_LIVE_REDIS_URL", None) or os.environ.get("REFLEX_REDIS_URL") or None


def _send(label: str) -> None:
    global _redis_client
    if _local is not None and _local_loop is not None and not _local_loop.is_closed():
        _local_loop.call_soon_threadsafe(_local.put_nowait, label)
        return
    url = _redis_url()
    if url is None:
        return
    try:
        with _redis_lock:
            if _redis_client is None:
                import redis

                _redis_client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
            client = _redis_client
        client.publish(CHANNEL, json.dumps({"model": label}))
    except Exception as exc:
        logger.warning("reflex-django: could not publish a change of %s for live updates: %s", label, exc)


def _changed(sender: type, using: str | None = None, **_: Any) -> None:
    label = _label(sender)
    if label in _QUIET:
        return
    _after_commit(lambda: _send(label), using)


def _after_commit(send: Callable[[], None], using: str | None) -> None:
    """`send` once the change is committed: at once outside a transaction (autocommit
    has committed it; with autocommit off there is no commit hook to wait for)."""
    from django.db import transaction

    if transaction.get_connection(using).in_atomic_block:
        transaction.on_commit(send, using=using, robust=True)
    else:
        send()


def connect() -> None:
    """Publish every model's saves and deletes (called by `ReflexDjangoConfig.ready()`)."""
    from django.db.models.signals import post_delete, post_save

    post_save.connect(_changed, dispatch_uid="reflex_django.live")
    post_delete.connect(_changed, dispatch_uid="reflex_django.live")
