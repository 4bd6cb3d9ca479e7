"""Calls against the reference server: many in flight answered out of order
and matched by id, errors as RpcError, cancellation, timeouts, and batch
frames both ways."""

from __future__ import annotations

import asyncio
import random

from support import ServerTestCase, stats, wait_until, within
from wirecall_client import UNDEFINED, RpcError


class Calls(ServerTestCase):
    async def test_500_calls_in_flight_answered_out_of_order(self):
        client = await self.open_client()
        before = dict(client.stats)
        delays = [random.randint(0, 60) for _ in range(500)]
        results = await within(
            asyncio.gather(*(client.query("slow", {"ms": ms, "tag": i}) for i, ms in enumerate(delays))),
            "500 calls",
            10,
        )
        self.assertEqual([r["tag"] for r in results], list(range(500)))
        self.assertEqual([r["waitedMs"] for r in results], delays)
        sent = {k: client.stats[k] - before[k] for k in client.stats}
        self.assertEqual(sent["messages_sent"], 500)
        self.assertLess(sent["frames_sent"], 20, "500 calls of one turn leave in a few batch frames")
        self.assertEqual(sent["messages_received"], 500)
        self.assertLess(sent["frames_received"], 500, "answers that finish together arrive in batch frames")

    async def test_results_and_plain_values(self):
        client = await self.open_client()
        self.assertEqual(await client.query("add", {"a": 2, "b": 3}), 5)
        self.assertIs(await client.query("echo"), UNDEFINED, "no input: a result with no data")
        self.assertIsNone(await client.query("echo", None))
        self.assertEqual(await client.mutate("echoMutation", {"x": [1, "two"]}), {"x": [1, "two"]})

    async def test_errors(self):
        client = await self.open_client()

        async def error_of(awaitable):
            with self.assertRaises(RpcError) as caught:
                await awaitable
            return caught.exception

        e = await error_of(client.query("fail", {"code": "CONFLICT", "message": "taken", "data": {"field": "name"}}))
        self.assertEqual((e.code, e.message, e.data), ("CONFLICT", "taken", {"field": "name"}))
        e = await error_of(client.query("fail", {"code": "NOT_A_CODE", "message": "x"}))
        self.assertEqual((e.code, e.message, e.data), ("INTERNAL", "Internal server error", UNDEFINED))
        e = await error_of(client.query("crash"))
        self.assertEqual((e.code, e.message), ("INTERNAL", "Internal server error"))
        e = await error_of(client.query("no.such.path"))
        self.assertEqual(e.code, "NOT_FOUND")
        e = await error_of(client.mutate("add", {"a": 1, "b": 2}))
        self.assertEqual(e.code, "METHOD_NOT_SUPPORTED")
        e = await error_of(client.query("add", {"a": "x", "b": 2}))
        self.assertEqual(e.code, "BAD_REQUEST")
        self.assertEqual(e.data["issues"][0]["path"], ["a"])
        self.assertFalse(e.retryable)
        self.assertEqual(client.state, "open", "call errors leave the connection open")

    async def test_cancelling_the_task_cancels_the_call_on_the_server(self):
        client = await self.open_client()
        before = (await stats())["cancelled"]
        task = asyncio.ensure_future(client.query("slow", {"ms": 5_000}))
        await asyncio.sleep(0.1)
        task.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await task
        await wait_until(lambda: _cancelled_above(before), "the server to abort the resolver")
        self.assertEqual(client._calls, {})

    async def test_abort_event_rejects_with_cancelled(self):
        client = await self.open_client()
        before = (await stats())["cancelled"]
        abort = asyncio.Event()
        pending = asyncio.ensure_future(client.query("slow", {"ms": 5_000}, abort=abort))
        await asyncio.sleep(0.05)
        abort.set()
        with self.assertRaises(RpcError) as caught:
            await within(pending, "the abort")
        self.assertEqual((caught.exception.code, caught.exception.message), ("CANCELLED", "The call was aborted"))
        await wait_until(lambda: _cancelled_above(before), "the server to abort the resolver")
        already = asyncio.Event()
        already.set()
        with self.assertRaises(RpcError):
            await client.query("echo", 1, abort=already)

    async def test_timeout_rejects_and_cancels_on_the_server(self):
        client = await self.open_client()
        before = (await stats())["cancelled"]
        with self.assertRaises(RpcError) as caught:
            await within(client.query("slow", {"ms": 5_000}, timeout_ms=150), "the timeout")
        self.assertEqual((caught.exception.code, caught.exception.message), ("TIMEOUT", '"slow" timed out after 150 ms'))
        self.assertTrue(caught.exception.retryable)
        await wait_until(lambda: _cancelled_above(before), "the server to abort the resolver")
        self.assertEqual(await client.query("echo", "still open"), "still open")

    async def test_timeout_counts_while_waiting_for_the_connection(self):
        from support import control

        await control("/refuse", {"code": "OVERLOADED", "count": -1})
        client = self.client()
        with self.assertRaises(RpcError) as caught:
            await within(client.query("echo", 1, timeout_ms=200), "the timeout")
        self.assertEqual(caught.exception.code, "TIMEOUT")


async def _cancelled_above(before: int) -> bool:
    return (await stats())["cancelled"] > before
