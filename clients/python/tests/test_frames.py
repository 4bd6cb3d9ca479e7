"""Validating what the server sends (docs/protocol.md, "What closes the
connection"): all or nothing, per message type."""

from __future__ import annotations

import unittest

import support  # noqa: F401  (puts wirecall_client on sys.path)
from wirecall_client import FrameError, parse_server_frame


class ServerFrames(unittest.TestCase):
    def test_valid_frames(self):
        self.assertEqual(parse_server_frame('{"type":"ack","maxPayload":1048576}'), [{"type": "ack", "maxPayload": 1048576}])
        self.assertEqual(len(parse_server_frame('[{"type":"result","id":1},{"type":"pong"}]')), 2)
        self.assertEqual(parse_server_frame('{"type":"result","id":-0}')[0]["id"], 0)
        self.assertEqual(parse_server_frame('{"type":"result","id":2.0}')[0]["id"], 2)
        self.assertEqual(parse_server_frame('{"type":"result","id":9007199254740991}')[0]["id"], 9007199254740991)
        self.assertEqual(parse_server_frame('{"type":"result","id":"x","id":3}')[0]["id"], 3, "the last key wins")
        self.assertEqual(parse_server_frame('{"type":"data","id":1,"eventId":"","unknown":1}')[0]["eventId"], "")
        self.assertEqual(parse_server_frame('{"type":"restart","delayMs":3600000}')[0]["delayMs"], 3600000)

    def test_invalid_frames(self):
        cases = [
            b'{"type":"pong"}',
            "not json",
            '{"type":"pong"',
            "NaN",
            "1",
            '"ack"',
            "null",
            "[]",
            "[" + ",".join(['{"type":"pong"}'] * 1001) + "]",
            '[{"type":"pong"},1]',
            '[{"type":"pong"},[{"type":"pong"}]]',
            "{}",
            '{"type":1}',
            '{"type":"Ack"}',
            '{"type":"call","id":1,"method":"query","path":"x"}',
            '{"type":"result"}',
            '{"type":"result","id":1.5}',
            '{"type":"result","id":-1}',
            '{"type":"result","id":"1"}',
            '{"type":"result","id":true}',
            '{"type":"result","id":9007199254740992}',
            '{"type":"result","id":3,"id":"x"}',
            '{"type":"error","id":1,"code":"X"}',
            '{"type":"error","id":1,"code":1,"message":"m"}',
            '{"type":"started","id":1,"eventId":null}',
            '{"type":"data","id":1,"eventId":"' + "x" * 1025 + '"}',
            '{"type":"data","id":1,"eventId":"' + "\U0001F600" * 513 + '"}',
            '{"type":"restart","delayMs":3600001}',
            '{"type":"restart","delayMs":-1}',
            '{"type":"restart","delayMs":1.5}',
            '{"type":"restart"}',
            '{"type":"ack","maxPayload":0}',
            '[{"type":"result","id":1},{"type":"result"}]',
        ]
        for text in cases:
            with self.subTest(text=text[:60]), self.assertRaises(FrameError):
                parse_server_frame(text)

    def test_payload_fields_accept_any_json(self):
        for value in ("null", "0", '"s"', "[1]", '{"a":{}}'):
            self.assertEqual(len(parse_server_frame('{"type":"result","id":1,"data":' + value + ',"meta":' + value + "}")), 1)


if __name__ == "__main__":
    unittest.main()
