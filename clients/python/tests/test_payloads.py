"""Payloads with meta through the real server: what the server makes
decodes to the right Python values, and what this client encodes arrives
at the server as the right JavaScript types."""

from __future__ import annotations

import datetime as dt
import math

from support import ServerTestCase
from wirecall_client import UNDEFINED, BigInt, JsMap, JsSet, JsURL, RpcError, TypedArray

UTC = dt.timezone.utc


class Payloads(ServerTestCase):
    async def test_decodes_every_rich_type_the_server_sends(self):
        client = await self.open_client()
        value = await client.query("rich")
        self.assertEqual(value["date"], dt.datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC))
        self.assertEqual(value["big"], BigInt(12345678901234567890123))
        self.assertIsInstance(value["big"], BigInt)
        self.assertEqual(value["negBig"], -5)
        self.assertEqual(value["map"], JsMap([("a", 1), (2, dt.datetime(1970, 1, 1, tzinfo=UTC))]))
        self.assertEqual(list(value["set"]), ["x", 1, UNDEFINED])
        self.assertIs(value["undef"], UNDEFINED)
        self.assertEqual(value["inArray"], [1, UNDEFINED, None])
        self.assertTrue(math.isnan(value["nan"]))
        self.assertEqual((value["inf"], value["negInf"]), (math.inf, -math.inf))
        self.assertEqual(math.copysign(1, value["negZero"]), -1.0)
        self.assertEqual(value["url"], JsURL("https://example.com/a?b=1"))
        self.assertEqual(value["bytes"], TypedArray("Uint8Array", [0, 127, 255]))
        self.assertEqual(value["floats"].values[0], 1.5)
        self.assertTrue(math.isnan(value["floats"].values[1]))
        self.assertIs(value["sharedA"], value["sharedB"], "a shared reference stays one object")
        self.assertIs(value["cyclic"]["self"], value["cyclic"])
        self.assertEqual(value["dotted.key"], dt.datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC))

    async def test_the_server_decodes_what_this_client_encodes(self):
        client = await self.open_client()
        shared = {"k": 1}
        cyclic = {"name": "loop"}
        cyclic["self"] = cyclic
        sent = {
            "date": dt.datetime(2024, 2, 29, 12, 0, 0, 5000, tzinfo=UTC),
            "big": BigInt(2**70),
            "huge": 2**60,
            "map": JsMap([("a", BigInt(1)), (3, UNDEFINED)]),
            "set": JsSet(["x", 2]),
            "pySet": frozenset([7]),
            "undef": UNDEFINED,
            "nums": [math.nan, math.inf, -math.inf, -0.0, 0.5],
            "url": JsURL("https://example.com/"),
            "floats": TypedArray("Float32Array", [1, math.nan]),
            "a": shared,
            "b": shared,
            "cyclic": cyclic,
            "dotted.key\\": dt.datetime(1970, 1, 1, tzinfo=UTC),
        }
        got = await client.query("inspect", sent)
        self.assertEqual(got["date"], "Date:2024-02-29T12:00:00.005Z")
        self.assertEqual(got["big"], f"bigint:{2**70}")
        self.assertEqual(got["huge"], f"bigint:{2**60}")
        self.assertEqual(got["map"], {"Map": [["a", "bigint:1"], ["number:3", "undefined"]]})
        self.assertEqual(got["set"], {"Set": ["x", "number:2"]})
        self.assertEqual(got["pySet"], {"Set": ["number:7"]})
        self.assertEqual(got["undef"], "undefined")
        self.assertEqual(got["nums"], ["number:NaN", "number:Infinity", "number:-Infinity", "number:-0", "number:0.5"])
        self.assertEqual(got["url"], "URL:https://example.com/")
        self.assertEqual(got["floats"], {"Float32Array": ["number:1", "number:NaN"]})
        self.assertEqual(got["a"], {"k": "number:1"})
        self.assertEqual(got["cyclic"], {"name": "loop", "self": "cycle"})
        self.assertEqual(got["dotted.key\\"], "Date:1970-01-01T00:00:00.000Z")

    async def test_schemas_that_want_rich_types_accept_them(self):
        client = await self.open_client()
        result = await client.query(
            "typed", {"at": dt.datetime(2031, 5, 1, tzinfo=UTC), "n": BigInt(41), "m": JsMap([("x", 1), ("y", 2)]), "s": {"p", "q"}}
        )
        self.assertEqual(result, {"year": 2031, "n": BigInt(42), "keys": ["x", "y"], "size": 2})
        with self.assertRaises(RpcError) as caught:
            await client.query("typed", {"at": "2031-05-01T00:00:00.000Z", "n": "41", "m": [], "s": []})
        self.assertEqual(caught.exception.code, "BAD_REQUEST", "strings do not pass a schema that wants a Date or a bigint")

    async def test_round_trip_through_echo(self):
        client = await self.open_client()
        value = {"when": dt.datetime(2000, 1, 1, tzinfo=UTC), "tags": JsSet(["a"]), "n": BigInt(-3), "u": UNDEFINED}
        back = await client.query("echo", value)
        self.assertEqual(back["when"], value["when"])
        self.assertEqual(back["tags"], value["tags"])
        self.assertEqual(back["n"], -3)
        self.assertIs(back["u"], UNDEFINED)
        self.assertEqual(await client.query("echo", {"$type": "plain", "list": [1, 2.5, "x"]}), {"$type": "plain", "list": [1, 2.5, "x"]})
