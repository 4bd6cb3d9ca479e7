"""The low-level frame API: a WebSocket that sends and records raw frames,
for protocol tests and transcripts (no batching, no validation, no
reconnect), and a probe of how an upgrade request is answered."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union
from urllib.parse import urlsplit

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

from .frames import SOCKET_OPTIONS, SUBPROTOCOL, dumps

__all__ = ["RawConnection", "HandshakeRefused", "UpgradeOutcome", "probe_upgrade"]


class HandshakeRefused(Exception):
    """The server answered the upgrade with an HTTP status other than 101."""

    def __init__(self, status: int) -> None:
        super().__init__(f"upgrade refused: HTTP {status}")
        self.status = status


class RawConnection:
    """A raw peer: ``send`` writes exactly the frame given (a dict or list
    is JSON-encoded, a str is sent as is, bytes as a binary frame); every
    frame received is recorded, in order."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        #: The subprotocol the server selected (None: none).
        self.protocol: Optional[str] = ws.subprotocol
        #: Every frame received, as its text (or bytes).
        self.frames: List[Union[str, bytes]] = []
        self._cursor = 0
        self._changed = asyncio.Event()
        self.close_code: Optional[int] = None
        self.close_reason: Optional[str] = None
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, url: str, subprotocols: Sequence[str] = (SUBPROTOCOL,), timeout: float = 5.0, **options: Any) -> "RawConnection":
        """Opens a socket (offering ``subprotocols``); raises :class:`HandshakeRefused` on an HTTP refusal."""
        try:
            ws = await asyncio.wait_for(
                websockets.connect(
                    url,
                    subprotocols=list(subprotocols) or None,  # type: ignore[arg-type]
                    **{**SOCKET_OPTIONS, **options},
                ),
                timeout,
            )
        except InvalidStatusCode as error:
            raise HandshakeRefused(error.status_code) from None
        return cls(ws)

    async def _read(self) -> None:
        try:
            while True:
                frame = await self.ws.recv()
                self.frames.append(frame)
                self._changed.set()
        except ConnectionClosed as closed:
            if closed.rcvd is not None:
                self.close_code, self.close_reason = closed.rcvd.code, closed.rcvd.reason
            else:
                self.close_code, self.close_reason = 1006, ""
        except Exception:
            self.close_code, self.close_reason = 1006, ""
        finally:
            self._changed.set()

    @property
    def is_closed(self) -> bool:
        return self.close_code is not None

    async def send(self, frame: Any) -> None:
        """Sends one frame as given (dict/list: as JSON; str: as is; bytes: binary)."""
        if isinstance(frame, (dict, list)):
            frame = dumps(frame)
        await self.ws.send(frame)

    def messages(self) -> List[Dict[str, Any]]:
        """Every message received so far, batches flattened (frames that are not JSON are skipped)."""
        out: List[Dict[str, Any]] = []
        for frame in self.frames:
            out.extend(_messages_of(frame))
        return out

    async def next_frame(self, timeout: float = 5.0) -> Union[str, bytes]:
        """The next frame not yet returned; asyncio.TimeoutError after ``timeout`` seconds, ConnectionError if the socket closed first."""

        async def wait() -> Union[str, bytes]:
            while self._cursor >= len(self.frames):
                if self.is_closed:
                    raise ConnectionError(f"closed ({self.close_code}) before the next frame")
                self._changed.clear()
                await self._changed.wait()
            frame = self.frames[self._cursor]
            self._cursor += 1
            return frame

        return await asyncio.wait_for(wait(), timeout)

    async def next_messages(self, timeout: float = 5.0) -> List[Dict[str, Any]]:
        """The messages of the next frame (a batch's, or a list of one)."""
        return _messages_of(await self.next_frame(timeout))

    async def wait_for(self, predicate: Any, timeout: float = 5.0) -> Dict[str, Any]:
        """The first message received (past or future) that ``predicate`` accepts."""

        async def wait() -> Dict[str, Any]:
            while True:
                for message in self.messages():
                    if predicate(message):
                        return message
                if self.is_closed:
                    raise ConnectionError(f"closed ({self.close_code}) while waiting for a message")
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(wait(), timeout)

    async def closed(self, timeout: float = 5.0) -> Tuple[int, str]:
        """Waits for the close: its code (1006 without a closing handshake) and reason."""

        async def wait() -> Tuple[int, str]:
            while not self.is_closed:
                self._changed.clear()
                await self._changed.wait()
            return self.close_code or 1006, self.close_reason or ""

        return await asyncio.wait_for(wait(), timeout)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Closes with a closing handshake (one second at most), else drops the socket."""
        try:
            await asyncio.wait_for(self.ws.close(code, reason), 1)
        except Exception:
            self.abort()
        await asyncio.wait_for(asyncio.gather(self._reader, return_exceptions=True), 2)

    def abort(self) -> None:
        """Drops the TCP connection without a closing handshake."""
        if self.ws.transport is not None:
            self.ws.transport.abort()


def _messages_of(frame: Union[str, bytes]) -> List[Dict[str, Any]]:
    if not isinstance(frame, str):
        return []
    try:
        value = json.loads(frame)
    except ValueError:
        return []
    return [m for m in (value if isinstance(value, list) else [value]) if isinstance(m, dict)]


@dataclass
class UpgradeOutcome:
    """How an upgrade request was answered."""

    status: int
    headers: Dict[str, str] = field(default_factory=dict)
    body: str = ""

    @property
    def protocol(self) -> Optional[str]:
        return self.headers.get("sec-websocket-protocol")


async def probe_upgrade(url: str, subprotocols: Sequence[str] = (), timeout: float = 3.0, headers: Optional[Dict[str, str]] = None) -> UpgradeOutcome:
    """Sends a WebSocket upgrade request and reads the HTTP answer (status,
    headers, and the body of a refusal), then drops the connection."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [
        f"GET {target} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
        "Sec-WebSocket-Version: 13",
    ]
    if subprotocols:
        lines.append("Sec-WebSocket-Protocol: " + ", ".join(subprotocols))
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")

    async def run() -> UpgradeOutcome:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            status = int(status_line.split(" ")[1])
            found: Dict[str, str] = {}
            for line in header_lines:
                if ":" in line:
                    name, value = line.split(":", 1)
                    found[name.strip().lower()] = value.strip()
            body = b""
            if status != 101:
                if "content-length" in found:
                    body = await reader.readexactly(int(found["content-length"]))
                else:
                    try:
                        body = await asyncio.wait_for(reader.read(65536), 0.5)
                    except asyncio.TimeoutError:
                        body = b""
            return UpgradeOutcome(status, found, body.decode("utf-8", "replace"))
        finally:
            writer.transport.abort()

    return await asyncio.wait_for(run(), timeout)
