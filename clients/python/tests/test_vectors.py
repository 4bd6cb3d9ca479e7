"""Replays docs/protocol/vectors.json: every vector whose direction a
client reads ("both", "server-to-client") decodes to the value its
notation describes; every value of a "both" vector encodes to exactly its
json and meta; every "neither" vector is refused."""

from __future__ import annotations

import json
import os
import unittest

from support import PROTOCOL_DOCS
from vector_notation import interpret, notation_of, strictly_equal
from wirecall_client.encoding import EncodingError, decode_payload, serialize
from wirecall_client.frames import dumps, parse_json

VECTORS = os.path.join(PROTOCOL_DOCS, "vectors.json")


def load():
    with open(VECTORS, encoding="utf-8") as file:
        return json.load(file)


def received(vector):
    """The payload as a client receives it: fresh from JSON text, in a `result` message."""
    message = {"type": "result", "id": 1, "data": vector["json"]}
    if "meta" in vector:
        message["meta"] = vector["meta"]
    return parse_json(dumps(message))


@unittest.skipUnless(os.path.exists(VECTORS), "docs/protocol/vectors.json does not exist yet")
class Vectors(unittest.TestCase):
    def test_decodes_every_vector_a_client_reads(self):
        vectors = [v for v in load() if v["direction"] in ("both", "server-to-client")]
        self.assertGreater(len(vectors), 0)
        for vector in vectors:
            with self.subTest(vector["name"]):
                value = decode_payload(received(vector), "data")
                got = notation_of(value)
                self.assertTrue(strictly_equal(got, vector["value"]), f"decoded {json.dumps(got)[:400]}\nexpected {json.dumps(vector['value'])[:400]}")

    def test_encodes_every_value_to_exactly_json_and_meta(self):
        vectors = [v for v in load() if v["direction"] in ("both", "server-to-client") and not v.get("decodeOnly")]
        self.assertGreater(len(vectors), 0)
        for vector in vectors:
            with self.subTest(vector["name"]):
                json_value, meta = serialize(interpret(vector.get("sent", vector["value"])))
                written = dumps({"json": json_value, **({} if meta is None else {"meta": meta})})
                expected = dumps({"json": vector["json"], **({"meta": vector["meta"]} if "meta" in vector else {})})
                self.assertEqual(written, expected)

    def test_refuses_every_vector_no_one_reads(self):
        vectors = [v for v in load() if v["direction"] == "neither"]
        self.assertGreater(len(vectors), 0)
        for vector in vectors:
            with self.subTest(vector["name"]), self.assertRaises(EncodingError):
                decode_payload(received(vector), "data")


if __name__ == "__main__":
    unittest.main()
