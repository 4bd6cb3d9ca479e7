"""The client against a scripted server (fake_server.py) that does what the
reference server never does: break the protocol, close with every code,
stay silent. Shows the client's side of docs/protocol.md: 4400 on what it
cannot accept, the close-code bands, restart delays, keep-alive, batching."""

from __future__ import annotations

import asyncio
import time
import unittest

from support import within  # first: puts the package on sys.path
from fake_server import FakePeer, FakeServer  # noqa: E402
from wirecall_client import Client, KeepAliveOptions, ReconnectOptions, RpcError

FAST = ReconnectOptions(min_delay_ms=10, max_delay_ms=50)


class ClientProtocol(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        self.clients = []

    async def asyncTearDown(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients), return_exceptions=True)

    def client(self, url: str, **options) -> Client:
        options.setdefault("reconnect", FAST)
        options.setdefault("timeout_ms", 3_000)
        client = Client(url, **options)
        client.start()
        self.clients.append(client)
        return client

    async def test_refuses_a_server_that_does_not_select_the_subprotocol(self):
        async def script(peer: FakePeer) -> None:
            await peer.closed()

        async with FakeServer(script, subprotocol=None) as server:
            client = self.client(server.url)
            with self.assertRaises(RpcError) as caught:
                await within(client.query("x"), "the call to fail")
            self.assertEqual(caught.exception.code, "BAD_REQUEST")
            await within(_wait(lambda: server.peers and server.peers[0].close_code), "the close")
            self.assertEqual(server.peers[0].close_code, 4400)
            self.assertEqual(client.state, "closed")

    async def test_closes_4400_on_a_message_before_ack(self):
        async def script(peer: FakePeer) -> None:
            await peer.message()
            await peer.send({"type": "result", "id": 1})
            await peer.closed()

        async with FakeServer(script) as server:
            client = self.client(server.url)
            with self.assertRaises(RpcError) as caught:
                await within(client.query("x"), "the call to fail")
            self.assertEqual(caught.exception.code, "BAD_REQUEST")
            self.assertEqual(caught.exception.data["closeCode"], 4400)
            await within(_wait(lambda: server.peers[0].close_code), "the close")
            self.assertEqual(server.peers[0].close_code, 4400)

    async def test_closes_4400_on_invalid_frames_after_ack(self):
        for bad in ('{"type":"data"}', b"\x01\x02", "[]", '{"type":"result","id":-1}', '{"type":"subscribe","id":1,"path":"x"}', "not json", '[{"type":"pong"},{"type":"nope"}]'):
            with self.subTest(frame=bad):

                async def script(peer: FakePeer, bad=bad) -> None:
                    await peer.handshake()
                    await peer.send(bad)
                    await peer.closed()

                async with FakeServer(script) as server:
                    client = self.client(server.url)
                    await within(client.wait_open(), "open")
                    await within(_wait(lambda: client.state == "closed"), "the client to stop")
                    self.assertEqual(client.error.code, "BAD_REQUEST")
                    await within(_wait(lambda: server.peers[0].close_code), "the close")
                    self.assertEqual(server.peers[0].close_code, 4400)

    async def test_close_code_bands(self):
        """Terminal codes stop the client with their error; retryable ones reconnect (docs/protocol.md, "Close codes")."""
        cases = [
            (1000, "CONNECTION_LOST", True),
            (1001, "CONNECTION_LOST", False),
            (1002, "BAD_REQUEST", True),
            (1003, "BAD_REQUEST", True),
            (1007, "BAD_REQUEST", True),
            (1008, "FORBIDDEN", True),
            (1010, "BAD_REQUEST", True),
            (1011, "CONNECTION_LOST", False),
            (1012, "CONNECTION_LOST", False),
            (1013, "OVERLOADED", False),
            (1014, "CONNECTION_LOST", False),
            (3000, "CONNECTION_LOST", False),
            (4000, "CONNECTION_LOST", False),
            (4400, "BAD_REQUEST", True),
            (4401, "UNAUTHORIZED", True),
            (4403, "FORBIDDEN", True),
            (4408, "TIMEOUT", False),
            (4413, "PAYLOAD_TOO_LARGE", True),
            (4429, "TOO_MANY_REQUESTS", False),
            (4499, "BAD_REQUEST", True),
            (4500, "CONNECTION_LOST", False),
        ]
        for code, error_code, terminal in cases:
            with self.subTest(code=code):

                async def script(peer: FakePeer, code=code) -> None:
                    await peer.handshake()
                    if len(server.peers) == 1:
                        await peer.ws.close(code, f"reason {code}")
                    else:
                        await peer.closed()

                async with FakeServer(script) as server:
                    client = self.client(server.url)
                    closes = []
                    client.on("close", closes.append)
                    await within(client.wait_open(), "open")
                    if terminal:
                        await within(_wait(lambda: client.state == "closed"), "the client to stop")
                        self.assertEqual(client.error.code, error_code)
                        self.assertEqual(client.error.message, f"connection closed ({code}): reason {code}")
                        self.assertEqual(client.error.data, {"closeCode": code, "closeReason": f"reason {code}"})
                        with self.assertRaises(RpcError) as caught:
                            await client.query("x")
                        self.assertIs(caught.exception, client.error)
                        self.assertEqual(len(server.peers), 1)
                    else:
                        await within(server.wait_peers(2), "a reconnect")
                        await within(client.wait_open(), "open again")
                    self.assertEqual(closes[0], {"code": code, "reason": f"reason {code}"})
                    await client.close()

    async def test_reconnects_delay_ms_after_a_restart_close(self):
        async def script(peer: FakePeer) -> None:
            await peer.handshake()
            if len(server.peers) == 1:
                await peer.send({"type": "restart", "delayMs": 400})
                await peer.ws.close(1012, "server restarting")
                server.closed_at = time.monotonic()
            else:
                await peer.closed()

        async with FakeServer(script) as server:
            client = self.client(server.url)
            restarts = []
            client.on("restart", restarts.append)
            await within(client.wait_open(), "open")
            await within(server.wait_peers(2), "the reconnect")
            waited = server.peers[1].opened_at - server.closed_at
            self.assertEqual(restarts, [{"delayMs": 400}])
            self.assertGreaterEqual(waited, 0.38, "came back before delayMs")
            self.assertLess(waited, 1.5)

    async def test_answers_pings_and_batches_what_it_sends(self):
        seen = {}

        async def script(peer: FakePeer) -> None:
            await peer.send({"type": "ping"})
            before_ack = []
            while len(before_ack) < 2:  # the init, and the pong (the client sends its init as soon as the socket opens)
                before_ack += await peer.messages()
            seen["pong before ack"] = next(m for m in before_ack if m["type"] == "pong")
            seen["init"] = next(m for m in before_ack if m["type"] == "init")
            await peer.send({"type": "ack", "maxPayload": 100_000})
            calls = await peer.messages()
            seen["batch"] = calls
            # Answered in reverse order, in one batch frame.
            await peer.send([{"type": "result", "id": c["id"], "data": c["input"]} for c in reversed(calls)])
            await peer.send({"type": "ping"})
            seen["pong after ack"] = await peer.message()
            await peer.closed()

        async with FakeServer(script) as server:
            client = self.client(server.url, params={"token": "t"})
            results = await within(asyncio.gather(*(client.query("echo", i) for i in range(10))), "the ten calls")
            self.assertEqual(results, list(range(10)))
            await within(_wait(lambda: "pong after ack" in seen), "the pong")
            self.assertEqual(seen["pong before ack"], {"type": "pong"})
            self.assertEqual(seen["init"], {"type": "init", "params": {"token": "t"}})
            self.assertEqual([c["id"] for c in seen["batch"]], list(range(1, 11)), "ten calls of one turn leave as one frame")
            self.assertEqual(seen["batch"][0], {"type": "call", "id": 1, "method": "query", "path": "echo", "input": 0})
            self.assertEqual(seen["pong after ack"], {"type": "pong"})
            self.assertEqual(server.errors, [])

    async def test_refuses_a_call_larger_than_max_payload(self):
        async def script(peer: FakePeer) -> None:
            await peer.handshake({"type": "ack", "maxPayload": 100})
            await peer.closed()

        async with FakeServer(script) as server:
            client = self.client(server.url)
            await within(client.wait_open(), "open")
            with self.assertRaises(RpcError) as caught:
                await client.query("echo", "x" * 200)
            self.assertEqual(caught.exception.code, "PAYLOAD_TOO_LARGE")
            self.assertEqual(caught.exception.data, {"maxPayload": 100})
            self.assertEqual(server.peers[0].frames[1:], [], "nothing was sent")

    async def test_1009_fails_the_call_written_last_then_reconnects(self):
        async def script(peer: FakePeer) -> None:
            await peer.handshake()
            if len(server.peers) == 1:
                messages = await peer.messages()
                await peer.ws.close(1009, "too big")
            else:
                messages = await peer.messages()
                await peer.send([{"type": "result", "id": m["id"], "data": "again"} for m in messages])
                await peer.closed()

        async with FakeServer(script) as server:
            client = self.client(server.url)
            await within(client.wait_open(), "open")
            first = asyncio.ensure_future(client.query("echo", 1))
            last = asyncio.ensure_future(client.query("echo", 2))
            with self.assertRaises(RpcError) as caught:
                await within(last, "the last call to fail")
            self.assertEqual(caught.exception.code, "PAYLOAD_TOO_LARGE")
            self.assertEqual(await within(first, "the first call, sent again"), "again")

    async def test_keep_alive_drops_a_silent_connection_and_reconnects(self):
        async def script(peer: FakePeer) -> None:
            await peer.handshake()
            if len(server.peers) == 1:
                await peer.closed(5)  # answers nothing
            else:
                ping = await peer.message()
                await peer.send({"type": "pong"})
                seen.append(ping)
                await peer.closed()

        seen = []
        async with FakeServer(script) as server:
            client = self.client(server.url, keep_alive=KeepAliveOptions(interval_ms=100, timeout_ms=150))
            pongs = []
            client.on("pong", pongs.append)
            await within(server.wait_peers(2), "a reconnect after the silent link")
            await within(_wait(lambda: pongs), "a pong")
            self.assertEqual(seen, [{"type": "ping"}])
            self.assertIsNotNone(client.rtt_ms)

    async def test_late_answers_for_abandoned_calls_are_dropped(self):
        async def script(peer: FakePeer) -> None:
            await peer.handshake()
            call = await peer.message()
            cancel = await peer.message()
            seen.append(cancel)
            await peer.send({"type": "result", "id": call["id"], "data": "late"})
            await peer.send({"type": "error", "id": 999, "code": "INTERNAL", "message": "unknown id"})
            await peer.send({"type": "data", "id": 998, "data": 1})
            await peer.closed()

        seen = []
        async with FakeServer(script) as server:
            client = self.client(server.url)
            await within(client.wait_open(), "open")
            with self.assertRaises(RpcError) as caught:
                await client.query("slow", timeout_ms=50)
            self.assertEqual(caught.exception.code, "TIMEOUT")
            self.assertEqual(caught.exception.message, '"slow" timed out after 50 ms')
            await within(_wait(lambda: seen), "the cancel")
            self.assertEqual(seen, [{"type": "cancel", "id": 1}])
            await asyncio.sleep(0.05)
            self.assertEqual(client.state, "open", "late and unknown answers are dropped, not protocol errors")

    async def test_unknown_error_code_is_internal(self):
        async def script(peer: FakePeer) -> None:
            await peer.handshake()
            call = await peer.message()
            await peer.send({"type": "error", "id": call["id"], "code": "TEAPOT", "message": "short and stout"})
            await peer.closed()

        async with FakeServer(script) as server:
            client = self.client(server.url)
            with self.assertRaises(RpcError) as caught:
                await within(client.query("x"), "the error")
            self.assertEqual((caught.exception.code, caught.exception.message), ("INTERNAL", "short and stout"))


async def _wait(predicate, step: float = 0.005):
    while not predicate():
        await asyncio.sleep(step)
    return True


if __name__ == "__main__":
    unittest.main()
