"""A dropped socket (the server's TCP connections destroyed, no close
frame: 1006) and what the client restores (docs/reconnect.md, "What the
caller sees"): queries sent again, plain mutations failing with
CONNECTION_LOST, idempotent mutations run once, subscriptions resumed from
their lastEventId or resynced, queued calls sent; a refused reconnect
stopping the client; a half-open link found by the keep-alive."""

from __future__ import annotations

import asyncio

from support import ServerTestCase, control, stats, wait_until, within
from wirecall_client import KeepAliveOptions, RpcError


async def take(sub, count, timeout=3.0):
    return [await within(sub.next(), f"event {i + 1} of {count}", timeout) for i in range(count)]


class Reconnect(ServerTestCase):
    async def test_query_in_flight_is_sent_again(self):
        client = await self.open_client()
        resubscribes = []
        client.on("resubscribe", resubscribes.append)
        pending = asyncio.ensure_future(client.query("slow", {"ms": 300, "tag": "q"}))
        await asyncio.sleep(0.05)
        self.assertEqual((await control("/drop"))["dropped"], 1)
        result = await within(pending, "the query, sent again", 4)
        self.assertEqual(result, {"waitedMs": 300, "tag": "q"})

    async def test_mutation_in_flight_fails_connection_lost(self):
        client = await self.open_client()
        states = []
        client.on("state", states.append)
        pending = asyncio.ensure_future(client.mutate("slowMutation", {"ms": 300}))
        await asyncio.sleep(0.05)
        await control("/drop")
        with self.assertRaises(RpcError) as caught:
            await within(pending, "the mutation to fail")
        self.assertEqual(caught.exception.code, "CONNECTION_LOST")
        self.assertTrue(caught.exception.message.endswith("; the mutation may or may not have run"), caught.exception.message)
        self.assertEqual(caught.exception.data, {"closeCode": 1006, "closeReason": ""})
        await within(client.wait_open(), "the reconnect")
        self.assertEqual(states[:2], ["reconnecting", "open"])

    async def test_idempotent_mutation_is_sent_again_and_runs_once(self):
        client = await self.open_client()
        before = await stats()
        pending = asyncio.ensure_future(client.mutate("counter.increment", {"by": 5, "ms": 300}, idempotent=True))
        await asyncio.sleep(0.05)
        await control("/drop")
        result = await within(pending, "the idempotent mutation", 4)
        after = await stats()
        self.assertEqual(after["increments"] - before["increments"], 1, "ran once")
        self.assertEqual(result["value"], before["counter"] + 5)
        self.assertIsInstance(result["key"], str)

    async def test_idempotency_key_of_ones_own_across_connections(self):
        client = await self.open_client()
        before = await stats()
        first = await client.mutate("counter.increment", {"by": 1}, idempotency_key="order-17")
        await control("/drop")
        again = await within(client.mutate("counter.increment", {"by": 1}, idempotency_key="order-17"), "the repeat")
        self.assertEqual(again, first, "the stored outcome")
        with self.assertRaises(RpcError) as caught:
            await client.mutate("counter.increment", {"by": 2}, idempotency_key="order-17")
        self.assertEqual(caught.exception.code, "CONFLICT")
        self.assertEqual((await stats())["increments"] - before["increments"], 1)

    async def test_subscription_resumes_from_last_event_id(self):
        client = await self.open_client()
        resubscribes = []
        client.on("resubscribe", resubscribes.append)
        sub = client.subscribe("feed.events")
        await take(sub, 1)
        e1 = (await control("/publish", {"text": "one"}))["eventId"]
        (event,) = await take(sub, 1)
        self.assertEqual(event.event_id, e1)
        await control("/drop")
        # Published while the client is away: it must get them once it resumes.
        e2 = (await control("/publish", {"text": "two"}))["eventId"]
        e3 = (await control("/publish", {"text": "three"}))["eventId"]
        started, d2, d3 = await take(sub, 3, 4)
        self.assertEqual((started.kind, started.event_id), ("started", e1), "started echoes the lastEventId sent")
        self.assertEqual([(d2.event_id, d2.data["text"]), (d3.event_id, d3.data["text"])], [(e2, "two"), (e3, "three")])
        self.assertEqual(resubscribes, [{"path": "feed.events", "lastEventId": e1}])
        e4 = (await control("/publish", {"text": "four"}))["eventId"]
        (d4,) = await take(sub, 1)
        self.assertEqual(d4.event_id, e4)
        sub.unsubscribe()

    async def test_subscription_resyncs_when_the_history_no_longer_covers_it(self):
        client = await self.open_client(keep_alive=False)
        resyncs = []
        client.on("resync", resyncs.append)
        sub = client.subscribe("feed.events")
        await take(sub, 1)
        await control("/publish", {"text": "seen"})
        await take(sub, 1)
        # The client is kept away (refused) while more than the history (5) is published.
        await control("/refuse", {"code": "OVERLOADED", "count": -1})
        await control("/drop")
        for i in range(7):
            await control("/publish", {"text": f"missed {i}"})
        await control("/refuse", {"count": 0})
        started, resync = await take(sub, 2, 4)
        self.assertEqual((started.kind, resync.kind), ("started", "resync"))
        self.assertEqual(resyncs, [{"path": "feed.events"}])
        e = (await control("/publish", {"text": "live"}))["eventId"]
        (live,) = await take(sub, 1)
        self.assertEqual((live.event_id, live.data["text"]), (e, "live"))
        sub.unsubscribe()

    async def test_calls_made_while_reconnecting_wait_and_are_sent(self):
        client = await self.open_client()
        await control("/refuse", {"code": "OVERLOADED", "count": 3})
        await control("/drop")
        await wait_until(lambda: client.state == "reconnecting", "the drop to be seen")
        queued = [asyncio.ensure_future(client.mutate("echoMutation", i)) for i in range(3)]
        self.assertEqual(await within(asyncio.gather(*queued), "the queued calls", 4), [0, 1, 2])

    async def test_a_refused_reconnect_stops_the_client(self):
        client = await self.open_client()
        sub = client.subscribe("feed.events")
        await take(sub, 1)
        pending = asyncio.ensure_future(client.query("slow", {"ms": 2_000}))
        await asyncio.sleep(0.05)
        await control("/refuse", {"code": "UNAUTHORIZED", "count": -1})
        await control("/drop")
        with self.assertRaises(RpcError) as caught:
            await within(pending, "the query to fail")
        self.assertEqual((caught.exception.code, caught.exception.data["closeCode"]), ("UNAUTHORIZED", 4401))
        with self.assertRaises(RpcError) as sub_error:
            await within(sub.next(), "the subscription to end")
        self.assertIs(sub_error.exception, caught.exception)
        self.assertEqual(client.state, "closed")

    async def test_without_reconnect_a_drop_ends_the_client(self):
        client = await self.open_client(reconnect=False)
        pending = asyncio.ensure_future(client.query("slow", {"ms": 2_000}))
        await asyncio.sleep(0.05)
        await control("/drop")
        with self.assertRaises(RpcError) as caught:
            await within(pending, "the query to fail")
        self.assertEqual((caught.exception.code, caught.exception.data["closeCode"]), ("CONNECTION_LOST", 1006))
        self.assertEqual(client.state, "closed")

    async def test_keep_alive_finds_a_half_open_link(self):
        client = await self.open_client(keep_alive=KeepAliveOptions(interval_ms=150, timeout_ms=200))
        closes = []
        client.on("close", closes.append)
        await control("/stall")  # the server stops reading: nothing answers the pings
        await wait_until(lambda: closes, "the keep-alive to give up", 3)
        self.assertEqual(closes[0]["code"], 1006)
        self.assertEqual(await within(client.query("echo", "back"), "a call on the new connection"), "back")

    async def test_keep_alive_pings_an_idle_connection(self):
        client = await self.open_client(keep_alive=KeepAliveOptions(interval_ms=50, timeout_ms=1_000))
        pongs = []
        client.on("pong", pongs.append)
        await wait_until(lambda: len(pongs) >= 2, "two keep-alive pongs")
        self.assertGreaterEqual(client.rtt_ms, 0)
        self.assertEqual(client.state, "open")
