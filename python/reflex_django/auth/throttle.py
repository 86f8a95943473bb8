"""Sign-in with a limit on guesses, and password hashing that never holds up others.

Failed sign-ins are counted in Django's cache (the default cache; with several
processes, give them one shared cache, e.g. Redis), per username and per client
address, in a window of `SIGNIN_WINDOW` seconds from the first failure:

- past `SIGNIN_ATTEMPTS` attempts for a username, or `SIGNIN_ATTEMPTS_PER_ADDRESS`
  from one address, attempts are refused without checking the password for a
  window; each refused attempt doubles the wait, up to `SIGNIN_MAX_LOCKOUT` seconds
  (back-off). Attempts are counted before the check, so simultaneous ones count too;
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
    `(None, seconds)` when sign-ins for this username or address must wait.

    Each attempt is counted (atomically, `incr`) before the password is checked, so
    attempts sent at the same time cannot slip past the limit together; a right
    password takes its attempt back."""
    from django.core.cache import cache

    keys = _keys(request, username)
    window = int(auth_setting("SIGNIN_WINDOW"))
    most = int(auth_setting("SIGNIN_MAX_LOCKOUT"))
    limits = (int(auth_setting("SIGNIN_ATTEMPTS")), int(auth_setting("SIGNIN_ATTEMPTS_PER_ADDRESS")))
    now = time.time()
    locks = await cache.aget_many([f"{key}:until" for key in keys])
    waits = [until - now for until in locks.values() if until > now]
    if waits:
        # Back-off: each attempt while locked doubles what is left, up to the most.
        left = max(waits)
        await cache.aset_many(
            {f"{k}:until": now + min(left * 2, most) for k in keys if f"{k}:until" in locks},
            timeout=most + window,
        )
        return None, math.ceil(left)
    over = False
    for key, limit in zip(keys, limits, strict=True):
        await cache.aadd(key, 0, timeout=window)
        try:
            count = await cache.aincr(key)
        except ValueError:  # it expired in between
            await cache.aset(key, 1, timeout=window)
            count = 1
        if limit > 0 and count > limit:
            await cache.aset(f"{key}:until", now + window, timeout=most + window)
            over = True
    if over:
        return None, window
    user = await authenticate_unthrottled(request, username, password)
    if user is not None:
        await cache.adelete_many([keys[0], f"{keys[0]}:until"])
        try:
            await cache.adecr(keys[1])
        except ValueError:
            pass
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
