"""Sign-in with a limit on guesses, and password hashing that never holds up others.

Failed sign-ins are counted in Django's cache (the default cache; with several
processes, give them one shared cache, e.g. Redis), per username and per client
address, in a window of `SIGNIN_WINDOW` seconds from the first failure:

- after `SIGNIN_ATTEMPTS` failures for a username, or `SIGNIN_ATTEMPTS_PER_ADDRESS`
  from one address, further attempts are refused without checking the password
  until the window ends; each refused attempt doubles the wait, up to
  `SIGNIN_MAX_LOCKOUT` seconds (back-off);
- the refusal says the same whether or not the username exists (`signin_throttled`);
- a successful sign-in clears the username's count (not the address's).

Checking a password runs the hasher (PBKDF2 takes most of a second by design). Django's
`aauthenticate` runs it on the one thread that every event's ORM call shares, so a flood
of guesses would hold up everyone's events. Here it runs on a small pool of its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from reflex_django.auth.conf import auth_setting

__all__ = ["authenticate", "authenticate_unthrottled", "within_limit"]

# Two checks at a time at most: a flood waits its turn instead of taking every core.
_HASHING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="reflex-django-signin")


async def authenticate(request: Any, username: str, password: str) -> tuple[Any, int | None]:
    """`(user, None)` for right credentials, `(None, None)` for wrong ones, and
    `(None, seconds)` when sign-ins for this username or address must wait."""
    keys = _keys(request, username)
    wait = await _wait(keys)
    if wait:
        await _failed(keys, throttled=True)
        return None, wait
    user = await authenticate_unthrottled(request, username, password)
    if user is None:
        await _failed(keys, throttled=False)
    else:
        from django.core.cache import cache

        await cache.adelete(keys[0])
    return user, None


async def authenticate_unthrottled(request: Any, username: str, password: str) -> Any:
    """Django's `authenticate()`, on the sign-in pool (e.g. right after a sign-up)."""
    return await asyncio.get_running_loop().run_in_executor(_HASHING, _check, request, username, password)


def _check(request: Any, username: str, password: str) -> Any:
    from django.contrib.auth import authenticate as django_authenticate
    from django.db import connections

    try:
        return django_authenticate(request, username=username, password=password)
    finally:
        # This pool's threads are not Django's: leave no connection open in them.
        connections.close_all()


def _keys(request: Any, username: str) -> tuple[str, str]:
    who = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    address = (getattr(request, "META", {}) or {}).get("REMOTE_ADDR") or "unknown"
    return f"reflex_django:signin:user:{who}", f"reflex_django:signin:addr:{address}"


async def _wait(keys: tuple[str, str]) -> int | None:
    """Seconds until a sign-in may be tried again, if it may not be now."""
    from django.core.cache import cache

    limits = (int(auth_setting("SIGNIN_ATTEMPTS")), int(auth_setting("SIGNIN_ATTEMPTS_PER_ADDRESS")))
    records = await cache.aget_many(keys)
    now = time.time()
    waits = [
        record["until"] - now
        for key, limit in zip(keys, limits, strict=True)
        if (record := records.get(key)) and limit > 0 and record["count"] >= limit and record["until"] > now
    ]
    return math.ceil(max(waits)) if waits else None


async def _failed(keys: tuple[str, str], *, throttled: bool) -> None:
    from django.core.cache import cache

    window = int(auth_setting("SIGNIN_WINDOW"))
    most = int(auth_setting("SIGNIN_MAX_LOCKOUT"))
    limits = (int(auth_setting("SIGNIN_ATTEMPTS")), int(auth_setting("SIGNIN_ATTEMPTS_PER_ADDRESS")))
    now = time.time()
    records = await cache.aget_many(keys)
    updated = {}
    for key, limit in zip(keys, limits, strict=True):
        record = records.get(key)
        if not record or record["until"] <= now:
            record = {"count": 0, "until": now + window}
        record = {"count": record["count"] + 1, "until": record["until"]}
        if throttled and limit > 0 and record["count"] > limit:
            # Back-off: each attempt while locked doubles what is left, up to the most.
            left = max(record["until"] - now, 1)
            record["until"] = now + min(left * 2, most)
        updated[key] = record
    await cache.aset_many(updated, timeout=most + window)


def within_limit(key: str, limit: int, window: int) -> bool:
    """Counts one more request under `key` (sync; Django's cache) and says whether it
    stays within `limit` per `window` seconds from the first (0: no limit)."""
    from django.core.cache import cache

    key = "reflex_django:limit:" + key
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # it expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return limit <= 0 or count <= limit
