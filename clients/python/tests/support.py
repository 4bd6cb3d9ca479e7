"""Shared helpers of the tests that need a server: where it is (the
environment variables set by tests/python/python-client.test.ts), its
control endpoint, clients that are closed after each test, and bounded
waits."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import unittest
import urllib.request
from typing import Any, Awaitable, Callable, Dict, List, Optional, TypeVar

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from wirecall_client import Client, KeepAliveOptions, ReconnectOptions  # noqa: E402

URL = os.environ.get("WIRECALL_URL", "")
CONTROL = os.environ.get("WIRECALL_CONTROL", "")
#: docs/protocol/ in the repository.
PROTOCOL_DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "docs", "protocol")

T = TypeVar("T")


def control_sync(path: str, body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    data = json.dumps(body or {}).encode()
    request = urllib.request.Request(CONTROL + path, data=data, method="POST", headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


async def control(path: str, body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Asks the Node side for something (POST /drop, /restart...), and returns its JSON answer."""
    return await asyncio.to_thread(control_sync, path, body)


async def stats() -> Dict[str, Any]:
    return await control("/stats")


async def within(awaitable: Awaitable[T], what: str, timeout: float = 3.0) -> T:
    """``awaitable``, or a failure naming ``what`` if it takes longer than ``timeout`` seconds."""
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None


async def wait_until(predicate: Callable[[], Any], what: str, timeout: float = 3.0) -> None:
    """Polls ``predicate`` (sync or async) every 10 ms until it holds; fails naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)


def fast_reconnect(**overrides: Any) -> ReconnectOptions:
    options = ReconnectOptions(min_delay_ms=20, max_delay_ms=200)
    for key, value in overrides.items():
        setattr(options, key, value)
    return options


@unittest.skipUnless(URL, "needs a server: run through tests/python/python-client.test.ts")
class ServerTestCase(unittest.IsolatedAsyncioTestCase):
    """A test against the scenario server: clients made with :meth:`client`
    are closed afterwards, and refusals are reset."""

    async def asyncSetUp(self) -> None:
        self.clients: List[Client] = []

    async def asyncTearDown(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients), return_exceptions=True)
        await control("/refuse", {"count": 0})

    def client(self, **options: Any) -> Client:
        options.setdefault("reconnect", fast_reconnect())
        options.setdefault("keep_alive", KeepAliveOptions())
        options.setdefault("timeout_ms", 5_000)
        client = Client(options.pop("url", URL), **options)
        client.start()
        self.clients.append(client)
        return client

    async def open_client(self, **options: Any) -> Client:
        client = self.client(**options)
        await within(client.wait_open(), "the client to connect")
        return client
