"""The handshake against the reference server: the subprotocol, init and
ack, connection params reaching createContext, and refusals with the close
codes docs/protocol.md gives them (4401 and 4403 stop the client; 1013 is
retried with backoff; 4408 and 4400 from the server)."""

from __future__ import annotations

from support import URL, ServerTestCase, control, fast_reconnect, within
from wirecall_client import RawConnection, RpcError, SUBPROTOCOL
from wirecall_client.raw import probe_upgrade


class Handshake(ServerTestCase):
    async def test_upgrade_selects_the_subprotocol(self):
        outcome = await probe_upgrade(URL, ["chat.v2", SUBPROTOCOL])
        self.assertEqual(outcome.status, 101)
        self.assertEqual(outcome.protocol, SUBPROTOCOL)

    async def test_upgrade_refusals(self):
        none = await probe_upgrade(URL, [])
        self.assertEqual((none.status, none.body.strip()), (400, "subprotocol wirecall.v1 required"))
        other = await probe_upgrade(URL, ["wirecall.v2"])
        self.assertEqual(other.status, 400)
        wrong_path = await probe_upgrade(URL.replace("/rpc", "/nope"), [SUBPROTOCOL])
        self.assertEqual(wrong_path.status, 404)

    async def test_init_and_ack_carry_params_to_the_context(self):
        client = await self.open_client(params={"user": "ada"})
        self.assertEqual(await client.query("whoami"), "ada")
        anonymous = await self.open_client()
        self.assertEqual(await anonymous.query("whoami"), "anonymous")

    async def test_params_function_is_called_on_every_connect(self):
        calls = []

        async def params():
            calls.append(1)
            return {"user": f"user{len(calls)}"}

        client = await self.open_client(params=params)
        self.assertEqual(await client.query("whoami"), "user1")
        await control("/drop")
        self.assertEqual(await within(client.query("whoami"), "the call after the reconnect"), "user2")

    async def test_4401_stops_the_client_with_unauthorized(self):
        client = self.client(params={"token": "bad"})
        with self.assertRaises(RpcError) as caught:
            await within(client.query("whoami"), "the refusal")
        error = caught.exception
        self.assertEqual((error.code, error.message), ("UNAUTHORIZED", "connection closed (4401): invalid token"))
        self.assertEqual(error.data, {"closeCode": 4401, "closeReason": "invalid token"})
        self.assertEqual(client.state, "closed")
        with self.assertRaises(RpcError) as later:
            await client.query("whoami")
        self.assertIs(later.exception, error)

    async def test_4403_stops_the_client_with_forbidden(self):
        client = self.client(params={"token": "forbidden"})
        with self.assertRaises(RpcError) as caught:
            await within(client.query("whoami"), "the refusal")
        self.assertEqual((caught.exception.code, caught.exception.data["closeCode"]), ("FORBIDDEN", 4403))
        self.assertEqual(client.state, "closed")

    async def test_1013_is_retried_with_backoff(self):
        await control("/refuse", {"code": "OVERLOADED", "count": 2})
        client = self.client(reconnect=fast_reconnect())
        closes, reconnects = [], []
        client.on("close", closes.append)
        client.on("reconnect", reconnects.append)
        self.assertEqual(await within(client.query("whoami"), "the call once the server accepts"), "anonymous")
        self.assertEqual([c["code"] for c in closes], [1013, 1013])
        self.assertEqual([r["attempt"] for r in reconnects], [1, 2])
        self.assertTrue(all(0 <= r["delayMs"] <= 200 for r in reconnects))

    async def test_gives_up_after_max_retries(self):
        await control("/refuse", {"code": "OVERLOADED", "count": -1})
        client = self.client(reconnect=fast_reconnect(max_retries=3))
        with self.assertRaises(RpcError) as caught:
            await within(client.query("whoami"), "the client to give up")
        self.assertEqual(caught.exception.code, "CONNECTION_LOST")
        self.assertTrue(caught.exception.message.startswith("gave up reconnecting: connection closed (1013)"), caught.exception.message)
        self.assertEqual(client.state, "closed")

    async def test_1011_is_retried(self):
        await control("/refuse", {"code": "INTERNAL", "count": 1})
        client = self.client()
        closes = []
        client.on("close", closes.append)
        self.assertEqual(await within(client.query("whoami"), "the call after the retry"), "anonymous")
        self.assertEqual([c["code"] for c in closes], [1011])

    async def test_server_refuses_early_messages_and_missing_init(self):
        early = await RawConnection.open(URL)
        await early.send({"type": "call", "id": 1, "method": "query", "path": "whoami"})
        self.assertEqual((await early.closed())[0], 4400)
        silent = await RawConnection.open(URL)
        await silent.send({"type": "ping"})
        self.assertEqual(await silent.wait_for(lambda m: m["type"] == "pong"), {"type": "pong"})
        self.assertEqual((await silent.closed(timeout=4))[0], 4408, "the scenario server's initTimeoutMs is 1.5 s")
