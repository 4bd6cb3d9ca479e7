"""The payload codec (superjson's format) on its own: what JavaScript's
serializer writes decodes to the right Python values, Python values encode
to the same bytes, and what the codec does not know is refused."""

from __future__ import annotations

import datetime as dt
import math
import unittest

import support  # noqa: F401  (puts wirecall_client on sys.path)
from wirecall_client import (
    UNDEFINED,
    BigInt,
    EncodingError,
    JsDate,
    JsError,
    JsMap,
    JsRegExp,
    JsSet,
    JsURL,
    TypedArray,
    deserialize,
    serialize,
)
from wirecall_client.frames import dumps, parse_json

UTC = dt.timezone.utc


def wire(value):
    """``{json, meta?}`` as text, the way a frame carries it."""
    json_value, meta = serialize(value)
    return dumps({"json": json_value, **({} if meta is None else {"meta": meta})})


class DecodeWhatJavaScriptWrites(unittest.TestCase):
    """Each case is what wirecall's compactSerializer wrote for a JavaScript value."""

    def decode(self, text):
        payload = parse_json(text)
        return deserialize(payload["json"], payload.get("meta"))

    def test_plain_json_needs_no_meta(self):
        self.assertEqual(self.decode('{"json":{"a":[1,"x",null,true]}}'), {"a": [1, "x", None, True]})

    def test_date(self):
        self.assertEqual(self.decode('{"json":"2025-01-01T00:00:00.000Z","meta":{"values":["Date"],"v":1}}'), dt.datetime(2025, 1, 1, tzinfo=UTC))

    def test_bigint(self):
        value = self.decode('{"json":"123456789012345678901234567890","meta":{"values":["bigint"],"v":1}}')
        self.assertIsInstance(value, BigInt)
        self.assertEqual(value, 123456789012345678901234567890)

    def test_map_with_nested_annotations(self):
        value = self.decode('{"json":[[1,"a"],["k","1970-01-01T00:00:00.000Z"],[{"o":1},[1,2]]],"meta":{"values":["map",{"1.1":["Date"],"2.1":["set"]}],"v":1}}')
        self.assertIsInstance(value, JsMap)
        self.assertEqual(value[1], "a")
        self.assertEqual(value["k"], dt.datetime(1970, 1, 1, tzinfo=UTC))
        key, inner = value.items()[2]
        self.assertEqual(key, {"o": 1})
        self.assertEqual(inner, JsSet([1, 2]))

    def test_set_with_undefined_and_nan(self):
        value = self.decode('{"json":["x",null,"NaN"],"meta":{"values":["set",{"1":["undefined"],"2":["number"]}],"v":1}}')
        items = list(value)
        self.assertEqual(items[:2], ["x", UNDEFINED])
        self.assertTrue(math.isnan(items[2]))

    def test_special_numbers(self):
        value = self.decode('{"json":["NaN","Infinity","-Infinity","-0",1.5],"meta":{"values":{"0":["number"],"1":["number"],"2":["number"],"3":["number"]},"v":1}}')
        self.assertTrue(math.isnan(value[0]))
        self.assertEqual(value[1:3], [math.inf, -math.inf])
        self.assertEqual(math.copysign(1, value[3]), -1.0)
        self.assertEqual(value[4], 1.5)

    def test_undefined_root_and_in_objects(self):
        self.assertIs(self.decode('{"json":null,"meta":{"values":["undefined"],"v":1}}'), UNDEFINED)
        self.assertEqual(self.decode('{"json":{"a":null,"b":null},"meta":{"values":{"a":["undefined"]},"v":1}}'), {"a": UNDEFINED, "b": None})

    def test_cycle(self):
        value = self.decode('{"json":{"name":"c","self":null},"meta":{"referentialEqualities":[["self"]],"v":1}}')
        self.assertIs(value["self"], value)

    def test_shared_references(self):
        value = self.decode('{"json":{"a":{"x":1},"b":[{"x":1}]},"meta":{"referentialEqualities":{"a":["b.0"]},"v":1}}')
        self.assertIs(value["a"], value["b"][0])

    def test_url_regexp_error(self):
        self.assertEqual(self.decode('{"json":"https://example.com/a?b=1","meta":{"values":["URL"],"v":1}}'), JsURL("https://example.com/a?b=1"))
        self.assertEqual(self.decode('{"json":"/a.b\\\\/c/gi","meta":{"values":["regexp"],"v":1}}'), JsRegExp("a.b\\/c", "gi"))
        error = self.decode('{"json":{"name":"Error","message":"boom","cause":"1970-01-01T00:00:00.005Z"},"meta":{"values":["Error",{"cause":["Date"]}],"v":1}}')
        self.assertEqual(error, JsError("Error", "boom", dt.datetime(1970, 1, 1, 0, 0, 0, 5000, tzinfo=UTC)))

    def test_typed_arrays(self):
        self.assertEqual(self.decode('{"json":[1,2,255],"meta":{"values":[["typed-array","Uint8Array"]],"v":1}}'), TypedArray("Uint8Array", [1, 2, 255]))
        floats = self.decode('{"json":[1,"NaN","-0"],"meta":{"values":[["custom","wirecall.Float64Array"]],"v":1}}')
        self.assertEqual(floats.kind, "Float64Array")
        self.assertTrue(math.isnan(floats.values[1]))
        self.assertEqual(math.copysign(1, floats.values[2]), -1.0)

    def test_escaped_paths(self):
        value = self.decode('{"json":{"2":"3","10":1,"a.b":"1970-01-01T00:00:00.001Z","c\\\\d":"2","z":1},"meta":{"values":{"2":["bigint"],"a\\\\.b":["Date"],"c\\\\\\\\d":["bigint"]},"v":1}}')
        self.assertEqual(value["a.b"], dt.datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC))
        self.assertEqual(value["c\\d"], BigInt(2))
        self.assertEqual(value["2"], BigInt(3))

    def test_repeated_bigints_are_one_value(self):
        value = self.decode('{"json":["5","5"],"meta":{"values":{"0":["bigint"],"1":["bigint"]},"referentialEqualities":{"0":["1"]},"v":1}}')
        self.assertEqual(value, [5, 5])

    def test_dates_python_cannot_hold(self):
        self.assertEqual(self.decode('{"json":"+275760-09-13T00:00:00.000Z","meta":{"values":["Date"],"v":1}}'), JsDate(8_640_000_000_000_000))
        self.assertEqual(self.decode('{"json":"0000-01-01T00:00:00.000Z","meta":{"values":["Date"],"v":1}}'), JsDate(-62_167_219_200_000))


class EncodeAsJavaScriptDoes(unittest.TestCase):
    """Python values encode to the bytes wirecall's compactSerializer writes for their JavaScript counterparts."""

    def test_plain_values_have_no_meta(self):
        self.assertEqual(wire({"a": [1, 2.5, "x", None, True]}), '{"json":{"a":[1,2.5,"x",null,true]}}')
        self.assertEqual(wire(2.0), '{"json":2}')

    def test_rich_values(self):
        self.assertEqual(wire(dt.datetime(2025, 1, 1, tzinfo=UTC)), '{"json":"2025-01-01T00:00:00.000Z","meta":{"values":["Date"],"v":1}}')
        self.assertEqual(wire(BigInt(10)), '{"json":"10","meta":{"values":["bigint"],"v":1}}')
        self.assertEqual(wire(2**60), '{"json":"1152921504606846976","meta":{"values":["bigint"],"v":1}}')
        self.assertEqual(wire(UNDEFINED), '{"json":null,"meta":{"values":["undefined"],"v":1}}')
        self.assertEqual(wire([math.nan, math.inf, -math.inf, -0.0, 1.5]), '{"json":["NaN","Infinity","-Infinity","-0",1.5],"meta":{"values":{"0":["number"],"1":["number"],"2":["number"],"3":["number"]},"v":1}}')
        self.assertEqual(
            wire(JsMap([(1, "a"), ("k", dt.datetime(1970, 1, 1, tzinfo=UTC)), ({"o": 1}, JsSet([1, 2]))])),
            '{"json":[[1,"a"],["k","1970-01-01T00:00:00.000Z"],[{"o":1},[1,2]]],"meta":{"values":["map",{"1.1":["Date"],"2.1":["set"]}],"v":1}}',
        )
        self.assertEqual(wire(TypedArray("Float64Array", [1, math.nan, -0.0])), '{"json":[1,"NaN","-0"],"meta":{"values":[["custom","wirecall.Float64Array"]],"v":1}}')
        self.assertEqual(wire(JsError("Error", "boom", dt.datetime(1970, 1, 1, 0, 0, 0, 5000, tzinfo=UTC))), '{"json":{"name":"Error","message":"boom","cause":"1970-01-01T00:00:00.005Z"},"meta":{"values":["Error",{"cause":["Date"]}],"v":1}}')

    def test_key_order_and_escaping(self):
        value = {"a.b": dt.datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC), "c\\d": BigInt(2), "10": 1, "2": BigInt(3), "z": 1}
        self.assertEqual(wire(value), '{"json":{"2":"3","10":1,"a.b":"1970-01-01T00:00:00.001Z","c\\\\d":"2","z":1},"meta":{"values":{"2":["bigint"],"a\\\\.b":["Date"],"c\\\\\\\\d":["bigint"]},"v":1}}')

    def test_references(self):
        cyclic = {"name": "c"}
        cyclic["self"] = cyclic
        self.assertEqual(wire(cyclic), '{"json":{"name":"c","self":null},"meta":{"referentialEqualities":[["self"]],"v":1}}')
        shared = {"x": dt.datetime(1970, 1, 1, tzinfo=UTC)}
        self.assertEqual(
            wire({"a": shared, "b": [shared]}),
            '{"json":{"a":{"x":"1970-01-01T00:00:00.000Z"},"b":[{"x":"1970-01-01T00:00:00.000Z"}]},"meta":{"values":{"a.x":["Date"],"b.0.x":["Date"]},"referentialEqualities":{"a":["b.0"]},"v":1}}',
        )
        self.assertEqual(wire([BigInt(5), BigInt(5)]), '{"json":["5","5"],"meta":{"values":{"0":["bigint"],"1":["bigint"]},"referentialEqualities":{"0":["1"]},"v":1}}')

    def test_round_trip(self):
        shared = JsSet(["s"])
        value = {"d": dt.datetime(2030, 1, 2, 3, 4, 5, 6000, tzinfo=UTC), "m": JsMap([(shared, shared)]), "u": UNDEFINED, "z": -0.0, "big": BigInt(-7)}
        json_value, meta = serialize(value)
        back = deserialize(parse_json(dumps(json_value)), parse_json(dumps(meta)))
        self.assertEqual(back["d"], value["d"])
        self.assertIs(back["u"], UNDEFINED)
        key, item = back["m"].items()[0]
        self.assertIs(key, item)
        self.assertEqual(math.copysign(1, back["z"]), -1.0)
        self.assertEqual(back["big"], -7)


class Refusals(unittest.TestCase):
    def test_unknown_annotations(self):
        for annotation in (["class", "Money"], ["symbol", "s"], ["custom", "other"], "nope", ["typed-array", "BigInt64Array"]):
            with self.subTest(annotation=annotation), self.assertRaises(EncodingError):
                deserialize({"a": 1}, {"values": {"a": [annotation]}, "v": 1})

    def test_bad_paths(self):
        for path in ("missing", "a.b", "__proto__", "a\\x"):
            with self.subTest(path=path), self.assertRaises(EncodingError):
                deserialize({"a": 1}, {"values": {path: ["Date"]}, "v": 1})

    def test_too_deep(self):
        deep = current = []
        for _ in range(1_100):
            current.append([])
            current = current[0]
        with self.assertRaises(EncodingError):
            deserialize(deep, {"values": ["undefined"], "v": 1})

    def test_what_cannot_be_encoded(self):
        with self.assertRaises(EncodingError):
            serialize({1: "int key"})
        with self.assertRaises(EncodingError):
            serialize({"x": object()})


if __name__ == "__main__":
    unittest.main()
