"""Waiting between attempts to reach a service that went away (Redis, for the
background tasks of live updates and worker presence)."""

from __future__ import annotations

import asyncio
import logging

logger = logging.getLogger("reflex_django")


class Backoff:
    """0.5 s, doubling up to 10 s; back to 0.5 s once the service answers again."""

    def __init__(self) -> None:
        self.delay = 0.5

    def reset(self) -> None:
        self.delay = 0.5

    async def wait(self, what: str, error: BaseException) -> None:
        """Says that `what` failed, and why, then waits the current delay."""
        logger.warning("reflex-django: %s (%s: %s); retrying in %.1fs", what, type(error).__name__, error, self.delay)
        await asyncio.sleep(self.delay)
        self.delay = min(self.delay * 2, 10)
