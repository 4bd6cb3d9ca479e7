"""update_params (reinit): new connection params over the open
connection; a refusal keeps the old context and the connection."""

from __future__ import annotations

from support import ServerTestCase, control, wait_until, within
from wirecall_client import RpcError


class Reinit(ServerTestCase):
    async def test_new_params_change_the_context(self):
        client = await self.open_client(params={"user": "ada"})
        self.assertEqual(await client.query("whoami"), "ada")
        await within(client.update_params({"user": "bob"}), "the reinit")
        self.assertEqual(await client.query("whoami"), "bob")

    async def test_a_refused_reinit_keeps_the_context_and_the_connection(self):
        client = await self.open_client(params={"user": "ada"})
        with self.assertRaises(RpcError) as caught:
            await within(client.update_params({"token": "bad"}), "the refusal")
        self.assertEqual((caught.exception.code, caught.exception.message), ("UNAUTHORIZED", "invalid token"))
        with self.assertRaises(RpcError) as forbidden:
            await client.update_params({"token": "forbidden"})
        self.assertEqual(forbidden.exception.code, "FORBIDDEN")
        self.assertEqual(client.state, "open")
        self.assertEqual(await client.query("whoami"), "ada")

    async def test_accepted_params_are_used_for_later_connects(self):
        client = await self.open_client(params={"user": "ada"})
        await client.update_params({"user": "carol"})
        await control("/drop")
        self.assertEqual(await within(client.query("whoami"), "the call after the reconnect"), "carol")

    async def test_params_given_while_disconnected_go_with_the_next_connect(self):
        client = await self.open_client(params={"user": "ada"})
        await control("/refuse", {"code": "OVERLOADED", "count": 2})
        await control("/drop")
        await wait_until(lambda: client.state == "reconnecting", "the drop")
        await within(client.update_params({"user": "dan"}), "update_params while away")
        self.assertEqual(await within(client.query("whoami"), "the call after the reconnect"), "dan")

    async def test_reinit_shares_the_id_space(self):
        client = await self.open_client()
        first = client._next_id
        await client.update_params({"user": "eve"})
        await client.query("whoami")
        self.assertEqual(client._next_id, first + 2)
