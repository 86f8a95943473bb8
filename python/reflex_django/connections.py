"""Django's database connections around Reflex events, as around requests.

Django checks its connections when a request starts and when it ends
(`close_old_connections`, on `request_started` and `request_finished`), in the thread
that served the request: a connection older than CONN_MAX_AGE is closed, and so is one
that failed. Reflex events are not requests. Their ORM work runs in asgiref's one
thread-sensitive thread of the worker, and without this module the connections of that
thread would never be checked: kept past CONN_MAX_AGE, and dead after a database
restart, failing every later event of the worker.

So, in that thread:

- the bridge's own trip to the database (`identity.verify`) starts with
  `close_old_connections()`, as a request does;
- after an event, if a connection is open there, `close_old_connections()` runs (the
  event does not wait for it), as at the end of a request. With CONN_MAX_AGE = 0 (the
  default) that closes it, so the next event connects afresh and a restarted database
  costs nothing. With persistent connections it runs at most once a second, which is
  enough to expire them on time, to close one that failed, and (with
  CONN_HEALTH_CHECKS) to have the next use check the connection first.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

__all__ = ["after_event", "close_old_connections"]

# Persistent connections are checked at most this often after events.
PERSISTENT_CHECK_INTERVAL = 1.0

_open = True  # a connection may be open (until a check finds none)
_pending: asyncio.Task[None] | None = None
_last_check = 0.0
_connected = False


def close_old_connections() -> None:
    """Django's `close_old_connections` (sync: in the thread that owns the connections),
    noting whether any connection is left open there."""
    global _open
    from django.db import close_old_connections as close_old
    from django.db import connections

    _watch()
    close_old()
    _open = any(conn.connection is not None for conn in connections.all(initialized_only=True))


def after_event() -> None:
    """An event ended (called on the event loop): check the connections of Django's
    sync thread if one is open, unless a check is pending or, with persistent
    connections, one ran less than a second ago."""
    global _pending, _last_check
    _watch()
    if not _open or (_pending is not None and not _pending.done()):
        return
    now = time.monotonic()
    if _persistent() and now - _last_check < PERSISTENT_CHECK_INTERVAL:
        return
    from asgiref.sync import sync_to_async

    _last_check = now
    try:
        _pending = asyncio.get_running_loop().create_task(sync_to_async(close_old_connections)())
    except RuntimeError:  # no running loop (a test binding requests by hand)
        _pending = None


def _persistent() -> bool:
    from django.db import connections

    return any(config.get("CONN_MAX_AGE", 0) != 0 for config in connections.settings.values())


def _watch() -> None:
    """Learn when a connection is made (Django's `connection_created`, in any thread)."""
    global _connected
    if _connected:
        return
    from django.db.backends.signals import connection_created

    connection_created.connect(_made, dispatch_uid="reflex_django.connections")
    _connected = True


def _made(**_: Any) -> None:
    global _open
    _open = True
