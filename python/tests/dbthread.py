"""Run Django's sync ORM from a test, whether or not an event loop is running."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-db")


def in_db_thread[T](fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call `fn` in one dedicated thread and wait (test set-up only)."""
    return _thread.submit(fn, *args, **kwargs).result()
