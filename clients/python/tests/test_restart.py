"""Deploys (docs/reconnect.md, "Graceful deploys"): the Node side calls
server.close({ graceMs, reconnectWindowMs }) and starts a new server on the
same port. The client gets `restart` with its delayMs, its call in flight
finishes, the socket closes with 1012, and it comes back delayMs later and
resumes its subscription. A plain close (1001) and a crash are retried with
backoff."""

from __future__ import annotations

import asyncio
import time

from support import ServerTestCase, control, stats, within


async def take(sub, count, timeout=3.0):
    return [await within(sub.next(), f"event {i + 1} of {count}", timeout) for i in range(count)]


class Restart(ServerTestCase):
    async def test_restart_notice_then_1012_then_back_after_delay_ms(self):
        client = await self.open_client()
        restarts, closes, reconnects = [], [], []
        client.on("restart", restarts.append)
        client.on("close", lambda c: closes.append((time.monotonic(), c)))
        client.on("reconnect", reconnects.append)
        opened = []
        client.on("state", lambda s: opened.append(time.monotonic()) if s == "open" else None)
        sub = client.subscribe("feed.events")
        await take(sub, 1)
        e1 = (await control("/publish", {"text": "before"}))["eventId"]
        await take(sub, 1)
        generation = (await stats())["generation"]
        slow = asyncio.ensure_future(client.query("slow", {"ms": 400, "tag": "in flight"}))
        await asyncio.sleep(0.05)
        await control("/restart", {"mode": "deploy", "graceMs": 3_000, "reconnectWindowMs": 300})
        self.assertEqual(await within(slow, "the call in flight to finish", 3), {"waitedMs": 400, "tag": "in flight"})
        await within(_until(lambda: opened), "the client to come back", 4)
        self.assertEqual(len(restarts), 1)
        delay = restarts[0]["delayMs"]
        self.assertTrue(0 <= delay < 300, delay)
        closed_at, close = closes[0]
        self.assertEqual(close, {"code": 1012, "reason": "server restarting"})
        self.assertEqual(reconnects[0]["delayMs"], delay, "the announced delay, not the backoff")
        self.assertGreaterEqual(opened[0] - closed_at, delay / 1000 - 0.02)
        self.assertEqual((await stats())["generation"], generation + 1)
        # The subscription resumed on the new server, from its lastEventId.
        started = (await take(sub, 1))[0]
        self.assertEqual((started.kind, started.event_id), ("started", e1))
        e2 = (await control("/publish", {"text": "after"}))["eventId"]
        (event,) = await take(sub, 1)
        self.assertEqual((event.event_id, event.data["text"]), (e2, "after"))
        self.assertEqual(await client.query("whoami"), "anonymous")
        sub.unsubscribe()

    async def test_going_away_1001_is_retried_with_backoff(self):
        client = await self.open_client()
        closes = []
        client.on("close", closes.append)
        await control("/restart", {"mode": "goingAway"})
        self.assertEqual(await within(client.query("echo", "again"), "a call on the new server", 4), "again")
        self.assertEqual(closes[0]["code"], 1001)

    async def test_a_crash_is_retried_and_queries_are_sent_again(self):
        client = await self.open_client()
        pending = asyncio.ensure_future(client.query("slow", {"ms": 200, "tag": "crash"}))
        await asyncio.sleep(0.05)
        await control("/restart", {"mode": "crash"})
        self.assertEqual(await within(pending, "the query on the new server", 4), {"waitedMs": 200, "tag": "crash"})


async def _until(predicate):
    while not predicate():
        await asyncio.sleep(0.005)
