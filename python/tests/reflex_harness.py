"""Drive the real Reflex 0.10 event path in-process: `EventNamespace.on_connect` /
`on_event` (as Socket.IO calls them) → `BaseStateEventProcessor` → middleware → handler.

No server and no browser; everything from the handshake's environ on is Reflex's code.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import reflex as rx
from reflex.app import EventNamespace
from reflex.istate.manager.memory import StateManagerMemory
from reflex_base.event import EventHandler
from reflex_base.event.processor.base_state_processor import BaseStateEventProcessor
from reflex_base.utils.format import format_event_handler


class RecordingNamespace(EventNamespace):
    """Reflex's event namespace, with the updates for the frontend recorded instead of
    sent over a socket."""

    def __init__(self, app: rx.App) -> None:
        super().__init__("/_event", app)
        self.updates: list[tuple[str, Any]] = []

    async def emit_update(self, update: Any, token: str) -> None:
        self.updates.append((token, update))


class Tab:
    """One browser tab: a Socket.IO connection with its own token and handshake."""

    def __init__(self, reflex: Reflex, headers: Mapping[str, str], ip: str) -> None:
        self.reflex, self.sid, self.token = reflex, uuid.uuid4().hex, uuid.uuid4().hex
        self.headers, self.ip = dict(headers), ip

    async def connect(self) -> Tab:
        raw = [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]
        environ = {
            "QUERY_STRING": f"token={self.token}",
            "asgi.scope": {"type": "websocket", "headers": raw, "client": (self.ip, 50000)},
        }
        await self.reflex.namespace.on_connect(self.sid, environ)
        return self

    async def send(self, handler: EventHandler, url: str = "/", **payload: Any) -> None:
        """Send an event the way the frontend's `applyEvent` does (router_data filled
        in by `withRouterData`: pathname, asPath, query)."""
        parts = urlsplit(url)
        router_data: dict[str, Any] = {"pathname": parts.path, "asPath": url}
        if parts.query:
            router_data["query"] = dict(parse_qsl(parts.query))
        data = {
            "name": format_event_handler(handler),
            "payload": payload,
            "router_data": router_data,
        }
        await self.reflex.namespace.on_event(self.sid, data)

    def frontend_events(self) -> list[Any]:
        """The events the backend sent this tab for the browser to run (redirects,
        scripts), oldest first."""
        return [
            event for token, update in self.reflex.namespace.updates if token == self.token for event in update.events
        ]


class Reflex:
    def __init__(self, app: rx.App, processor: BaseStateEventProcessor, namespace: RecordingNamespace) -> None:
        self.app, self.processor, self.namespace = app, processor, namespace

    async def tab(self, cookies: Mapping[str, str] | None = None, ip: str = "127.0.0.1", **headers: str) -> Tab:
        all_headers = {"host": "localhost:3000", "origin": "http://localhost:3000"}
        all_headers.update({k.replace("_", "-"): v for k, v in headers.items()})
        if cookies:
            all_headers["cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        return await Tab(self, all_headers, ip).connect()

    async def state(self, tab: Tab, cls: type[rx.State]) -> Any:
        """The state `cls` of `tab`, as the state manager holds it."""
        from reflex.istate.manager.token import BaseStateToken

        root = await self.app.state_manager.get_state(BaseStateToken(ident=tab.token, cls=cls))
        return await root.get_state(cls)

    async def settle(self, timeout: float = 10) -> None:
        """Wait until every queued event (and what it chained) has finished."""
        async with asyncio.timeout(timeout):
            while True:
                await asyncio.sleep(0.01)
                if not self.processor._futures and not self.processor._tasks:
                    break
        for _ in range(3):  # let done-callbacks run
            await asyncio.sleep(0)


@asynccontextmanager
async def running(app: rx.App) -> AsyncIterator[Reflex]:
    """The app's event processing, as `App._setup_event_processor` starts it, with an
    in-memory state manager (Reflex's dev default writes `.states/` to the cwd)."""
    app._state_manager = manager = StateManagerMemory()
    processor = BaseStateEventProcessor(middleware=app)
    namespace = RecordingNamespace(app)
    async with processor.configure(state_manager=manager, event_namespace=namespace):
        app._event_processor, app._event_namespace = processor, namespace
        try:
            yield Reflex(app, processor, namespace)
        finally:
            app._event_processor = app._event_namespace = None


def fresh_app() -> rx.App:
    """Another App: Reflex allows one per RegistrationContext, so fork one for it."""
    from reflex_base.registry import RegistrationContext

    with RegistrationContext.get().fork():
        return rx.App()


@functools.cache
def bridged_app() -> rx.App:
    """One app for the event tests, with the bridge installed the way the plugin does."""
    from reflex_django import ReflexDjangoPlugin

    app = rx.App()
    ReflexDjangoPlugin(settings_module="rdj_testproject.settings").post_compile(app=app)
    return app
