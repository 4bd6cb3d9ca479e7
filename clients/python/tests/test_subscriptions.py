"""Subscriptions against the reference server, as async iterators:
started, data (with eventId when tracked), resync, complete and error,
and unsubscribe."""

from __future__ import annotations

import datetime as dt

from support import ServerTestCase, control, stats, wait_until, within
from wirecall_client import BigInt, RpcError, SubscriptionEvent


async def take(sub, count, timeout=3.0):
    events = []
    for _ in range(count):
        events.append(await within(sub.next(), f"event {len(events) + 1} of {count}", timeout))
    return events


class Subscriptions(ServerTestCase):
    async def test_started_data_complete(self):
        client = await self.open_client()
        events = []
        async for event in client.subscribe("ticks", {"count": 5}):
            events.append(event)
        self.assertEqual(events[0], SubscriptionEvent("started"))
        self.assertEqual([(e.kind, e.data, e.event_id) for e in events[1:]], [("data", i, None) for i in range(5)])

    async def test_error_ends_the_iteration(self):
        client = await self.open_client()
        sub = client.subscribe("ticks", {"count": 2, "fail": {"code": "PRECONDITION_FAILED", "message": "stop"}})
        seen = []
        with self.assertRaises(RpcError) as caught:
            async for event in sub:
                seen.append(event.kind)
        self.assertEqual((caught.exception.code, caught.exception.message), ("PRECONDITION_FAILED", "stop"))
        self.assertEqual(seen, ["started", "data", "data"])

    async def test_refused_before_started(self):
        client = await self.open_client()
        with self.assertRaises(RpcError) as caught:
            await within(client.subscribe("ticks", {"count": "x"}).next(), "the refusal")
        self.assertEqual(caught.exception.code, "BAD_REQUEST")
        with self.assertRaises(RpcError) as caught:
            await within(client.subscribe("echo").next(), "the refusal")
        self.assertEqual(caught.exception.code, "METHOD_NOT_SUPPORTED")

    async def test_tracked_events_and_unsubscribe(self):
        client = await self.open_client()
        async with client.subscribe("feed.events") as sub:
            started = await within(sub.next(), "started")
            self.assertEqual(started.kind, "started")
            self.assertIsInstance(started.event_id, str)
            self.assertEqual(sub.last_event_id, started.event_id, "started's position is kept as lastEventId")
            published = [(await control("/publish", {"text": f"m{i}"}))["eventId"] for i in range(3)]
            events = await take(sub, 3)
            self.assertEqual([e.event_id for e in events], published)
            self.assertEqual(events[0].data, {"text": "m0", "at": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)})
            self.assertEqual(sub.last_event_id, published[-1])
            await wait_until(lambda: _feed_subscribers(1), "the server's subscriber")
        await wait_until(lambda: _feed_subscribers(0), "the server to end the subscription after unsubscribe")
        self.assertFalse(sub.active)

    async def test_resync_for_an_unknown_last_event_id(self):
        client = await self.open_client()
        await control("/publish", {"text": "before"})
        sub = client.subscribe("feed.events", last_event_id="nope.1")
        started, resync = await take(sub, 2)
        self.assertEqual((started.kind, resync.kind), ("started", "resync"))
        published = (await control("/publish", {"text": "after"}))["eventId"]
        (event,) = await take(sub, 1)
        self.assertEqual((event.event_id, event.data["text"]), (published, "after"))
        sub.unsubscribe()

    async def test_rich_tracked_events(self):
        client = await self.open_client()
        events = [e async for e in client.subscribe("richEvents")]
        self.assertEqual([e.kind for e in events], ["started", "data", "data"])
        self.assertEqual(events[1].event_id, "r1")
        self.assertEqual(events[1].data["big"], BigInt(12345678901234567890123))
        self.assertEqual(events[2].data, {"at": dt.datetime(2030, 6, 6, tzinfo=dt.timezone.utc), "n": BigInt(7)})

    async def test_many_subscriptions_on_one_connection(self):
        client = await self.open_client()
        subs = [client.subscribe("ticks", {"count": 20}) for _ in range(20)]
        for sub in subs:
            events = [e async for e in sub]
            self.assertEqual([e.data for e in events[1:]], list(range(20)))
        await wait_until(lambda: _live_ticks(0), "the server's generators to end")


async def _feed_subscribers(n: int) -> bool:
    return (await stats())["feedSubscribers"] == n


async def _live_ticks(n: int) -> bool:
    return (await stats())["liveTicks"] == n
