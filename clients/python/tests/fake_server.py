"""A scripted wirecall server in Python, for what the real server never
does: break the protocol, close with any code, stay silent. Each
connection runs ``script(peer)``."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Union

import websockets
from websockets.exceptions import ConnectionClosed

from wirecall_client.frames import dumps


class FakePeer:
    """One client connection, seen from the fake server."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.frames: List[Union[str, bytes]] = []
        self.opened_at = time.monotonic()
        self.close_code: Optional[int] = None
        self.close_reason: Optional[str] = None

    async def frame(self, timeout: float = 3.0) -> Union[str, bytes]:
        frame = await asyncio.wait_for(self.ws.recv(), timeout)
        self.frames.append(frame)
        return frame

    async def messages(self, timeout: float = 3.0) -> List[Dict[str, Any]]:
        """The messages of the next frame."""
        value = json.loads(await self.frame(timeout))
        return value if isinstance(value, list) else [value]

    async def message(self, timeout: float = 3.0) -> Dict[str, Any]:
        messages = await self.messages(timeout)
        assert len(messages) == 1, messages
        return messages[0]

    async def send(self, value: Any) -> None:
        await self.ws.send(value if isinstance(value, (str, bytes)) else dumps(value))

    async def handshake(self, ack: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Reads the init, answers ack; returns the init."""
        init = await self.message()
        assert init["type"] == "init", init
        await self.send(ack or {"type": "ack"})
        return init

    async def closed(self, timeout: float = 3.0) -> int:
        """Reads until the client closes; returns its close code."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), timeout)
        except ConnectionClosed as closed:
            self.close_code = closed.rcvd.code if closed.rcvd else 1006
            self.close_reason = closed.rcvd.reason if closed.rcvd else ""
        return self.close_code


class FakeServer:
    def __init__(self, script: Callable[[FakePeer], Awaitable[None]], subprotocol: Optional[str] = "wirecall.v1") -> None:
        self.script = script
        self.subprotocol = subprotocol
        self.peers: List[FakePeer] = []
        self.errors: List[BaseException] = []
        self._server: Any = None
        self.url = ""

    async def __aenter__(self) -> "FakeServer":
        async def handler(ws: Any, *_: Any) -> None:
            peer = FakePeer(ws)
            self.peers.append(peer)
            try:
                await self.script(peer)
            except (ConnectionClosed, asyncio.TimeoutError):
                pass
            except Exception as error:  # surfaced by the test
                self.errors.append(error)

        self._server = await websockets.serve(
            handler, "127.0.0.1", 0, subprotocols=[self.subprotocol] if self.subprotocol else None, ping_interval=None, compression=None
        )
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/rpc"
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._server.close()
        await asyncio.wait_for(self._server.wait_closed(), 3)

    async def wait_peers(self, count: int, timeout: float = 3.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.peers) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for connection {count} (got {len(self.peers)})")
            await asyncio.sleep(0.005)
