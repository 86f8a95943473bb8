"""Reflex events per second over one Socket.IO WebSocket, the way a browser tab sends them.

    python bench/reflex_events.py http://127.0.0.1:PORT [--seconds 3] [--handler NAME]

`event_rate(base_url, seconds)` connects to `{base_url}/_event/` like Reflex's JS client
(`utils/state.js`), then sends one event at a time and waits for the state update it
causes, and returns events per second. Point it at the front door and at the Reflex
backend's own port to see what the proxy costs per event.

The default event is `reflex___state____state.set_is_hydrated(value=True)`. It exists in
every Reflex app (the root `State` defines it), runs no app code, and changes nothing: the
flag is already True once the connection's boot event has run. Reflex still sends every
assigned var back, changed or not, so each event is answered by exactly one small delta.
The event goes the whole way an app's click does: Socket.IO decoding,
`EventNamespace.on_event`, the event queue, the state lock, the app's middleware
(reflex-django's per-event Django bridge included), the handler, and the delta emitted
back. We have to wait for that delta because Reflex has no acknowledgement: an event
that assigns nothing gets no answer at all.

Standard library only: Engine.IO 4 / Socket.IO 5 and the WebSocket framing are done by
hand. (simple_websocket's client is not used: when the server's first frame arrives in the
same read as the 101 response, it sits unseen until more data arrives, and Engine.IO's
OPEN packet does exactly that.)
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import socket
import time
import uuid
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# `reflex.state.State.get_full_name()`: the root state's name, the same in every app.
ROOT_STATE = "reflex___state____state"
DEFAULT_HANDLER = f"{ROOT_STATE}.set_is_hydrated"
# What the JS client sends when its socket connects (`initialEvents` in context.jsx).
BOOT_EVENT = f"{ROOT_STATE}.hydrate_and_load"
# Vars reach the frontend with this suffix (Reflex 0.10's FIELD_MARKER).
IS_HYDRATED = "is_hydrated_rx_state_"
# The JS client adds the page's location to every event it sends (`withRouterData`).
ROUTER_DATA = {"pathname": "/", "asPath": "/"}
# How long one event may go unanswered before we give up.
REPLY_TIMEOUT = 10.0
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455's fixed accept-key suffix


class NoReply(RuntimeError):
    """The backend did not answer an event in time, or closed the connection."""


class _WebSocket:
    """Just enough of a WebSocket client (RFC 6455) for text frames; stdlib only."""

    def __init__(self, url: str, protocol: str | None) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=REPLY_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {parts.path}?{parts.query} HTTP/1.1",
            f"Host: {parts.netloc}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if protocol:
            lines.append(f"Sec-WebSocket-Protocol: {protocol}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)  # frames may follow at once
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest())
        if not head.startswith(b"HTTP/1.1 101") or accept not in head:
            raise NoReply(f"{url}: WebSocket upgrade refused: {head.decode(errors='replace')}")

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise NoReply("the backend closed the connection")
        self.buf += data

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def send(self, text: str, opcode: int = 0x1) -> None:
        data = text.encode()
        n = len(data)
        # Client frames must be masked: FIN + opcode, then MASK bit + length, then the key.
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
        else:
            head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
        mask = os.urandom(4)
        pad = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(data, "big") ^ int.from_bytes(pad, "big")).to_bytes(n, "big")
        self.sock.sendall(head + mask + masked)

    def receive(self, timeout: float) -> str:
        """The next text message; raises TimeoutError (socket.timeout) after `timeout`."""
        self.sock.settimeout(timeout)
        message = b""
        while True:
            b0, b1 = self._take(2)
            n = b1 & 0x7F
            if n >= 126:
                n = int.from_bytes(self._take(2 if n == 126 else 8), "big")
            data = self._take(n)  # server frames are never masked
            opcode = b0 & 0x0F
            if opcode == 0x8:  # close
                raise NoReply(f"the backend closed the WebSocket ({data[:2].hex()} {data[2:]!r})")
            if opcode == 0x9:  # WebSocket-level ping (Engine.IO pings in a text frame, below)
                self.send(data.decode(), opcode=0xA)
                continue
            if opcode in (0x0, 0x1, 0x2):  # continuation, text, binary
                message += data
                if b0 & 0x80:  # FIN
                    return message.decode()

    def close(self) -> None:
        try:
            self.send("", opcode=0x8)
        except OSError:
            pass
        self.sock.close()


class _ReflexSocket:
    """One Socket.IO connection to Reflex's `/_event` endpoint, driven synchronously."""

    def __init__(self, base_url: str, token: str, boot_event: dict[str, Any]) -> None:
        parts = urlsplit(base_url)
        # The session token rides in the query string: Reflex's on_connect reads it
        # from there and links the socket to that session's state.
        query = f"EIO=4&transport=websocket&token={token}"
        path = parts.path.rstrip("/") + "/_event"
        url = urlunsplit(("ws", parts.netloc, path + "/", query, ""))
        # socket.io-client takes the namespace from the URL's path, so Reflex's events
        # live in the "/_event" namespace, not "/": every packet names it ("42/_event,[...]").
        # The default namespace accepts a CONNECT just as well but has no handlers, so
        # events sent there vanish without an error.
        self.ns = path + ","
        try:  # The JS client offers Reflex's version as the subprotocol; the backend
            protocol = metadata.version("reflex")  # only warns if it differs.
        except metadata.PackageNotFoundError:
            protocol = None
        self.ws = _WebSocket(url, protocol)
        # Engine.IO's first frame is the OPEN packet: "0" + {"sid", "pingInterval", ...}.
        # The server pings ("2") every pingInterval and drops us if no pong ("3") follows.
        opening = self.ws.receive(REPLY_TIMEOUT)
        if not opening.startswith("0"):
            raise NoReply(f"{url}: expected an Engine.IO open packet, got {opening!r}")
        # Socket.IO CONNECT: Engine.IO MESSAGE "4" + Socket.IO CONNECT "0" + namespace +
        # the auth payload. Reflex's client puts its boot event in it, so
        # hydration starts without waiting for the connect acknowledgement. (The JS also
        # sends `state_schema`; without it the backend skips the version check.)
        self.ws.send("40" + self.ns + json.dumps({"event": boot_event}, separators=(",", ":")))

    def emit(self, name: str, data: Any) -> None:
        # Engine.IO MESSAGE "4" + Socket.IO EVENT "2" + namespace + JSON [name, data].
        self.ws.send("42" + self.ns + json.dumps([name, data], separators=(",", ":")))

    def next_update(self, timeout: float) -> dict[str, Any]:
        """The next "event" the server emits (a state update), answering pings meanwhile."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                frame = self.ws.receive(left)
            except TimeoutError:
                break
            kind, body = frame[:2], frame[2:].removeprefix(self.ns)
            if frame == "2":  # Engine.IO PING -> PONG
                self.ws.send("3")
            elif kind == "42":  # Socket.IO EVENT: [name, *args]
                name, *args = json.loads(body)
                if name == "event":
                    return args[0]
                # Others ("new_token", "state_mismatch", ...) do not answer an event.
            elif kind == "44":  # Socket.IO CONNECT_ERROR: on_connect raised
                raise NoReply(f"the backend refused the connection: {body}")
            elif kind == "41" or frame.startswith("1"):  # Socket.IO DISCONNECT, Engine.IO CLOSE
                raise NoReply(f"the backend disconnected us ({frame!r})")
            # "40{sid}" (the connect acknowledgement) and anything else: ignore.
        raise NoReply(f"no reply from the backend within {timeout:g}s")

    def close(self) -> None:
        try:
            self.ws.send("41" + self.ns.rstrip(","))  # leave the namespace, as socket.disconnect() does
        except OSError:
            pass
        self.ws.close()


def _event(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "payload": payload, "router_data": dict(ROUTER_DATA)}


def event_rate(base_url: str, seconds: float, *, handler: str | None = None) -> float:
    """Events per second one client gets through `base_url`, one event in flight at a time.

    `base_url` is the app's http:// address (the front door, or the Reflex backend's
    port). `handler` (a full event name such as "reflex___state____state.my_state.bump")
    replaces the default `set_is_hydrated`; it is sent without arguments and must assign
    state on every call and emit one update, since each event is counted when its first
    update arrives. Raises `NoReply` if the backend leaves an event unanswered for
    REPLY_TIMEOUT seconds, refuses the connection or closes it.
    """
    sock = _ReflexSocket(base_url, uuid.uuid4().hex, _event(BOOT_EVENT, {}))
    try:
        # Let the boot finish (hydrate, then the page's on_load handlers): it ends
        # with the update that sets is_hydrated, which the frontend waits for too.
        try:
            # (Empty fields are left out of an update, so it may have no "delta".)
            while sock.next_update(REPLY_TIMEOUT).get("delta", {}).get(ROOT_STATE, {}).get(IS_HYDRATED) is not True:
                pass
        except NoReply as exc:
            raise NoReply(f"{base_url}: the boot event {BOOT_EVENT} never finished: {exc}") from None
        count = 0
        start = time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline:
            if handler is None:  # it is True already; Reflex sends assigned vars back anyway
                sock.emit("event", _event(DEFAULT_HANDLER, {"value": True}))
            else:
                sock.emit("event", _event(handler, {}))
            try:
                sock.next_update(REPLY_TIMEOUT)
            except NoReply as exc:
                raise NoReply(
                    f"{base_url}: event {handler or DEFAULT_HANDLER} got no answer: {exc} (Reflex only "
                    "answers an event that assigns state; a failed or unknown handler shows in its log)"
                ) from None
            count += 1
        return count / (time.perf_counter() - start)
    finally:
        sock.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="e.g. http://127.0.0.1:8000 (front door or Reflex backend)")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--handler", help=f"full event name (default {DEFAULT_HANDLER})")
    args = parser.parse_args()
    rate = event_rate(args.base_url, args.seconds, handler=args.handler)
    print(f"{rate:.0f} events/s")
