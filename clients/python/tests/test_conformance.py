"""Plays every conformance transcript of docs/protocol/conformance/ with
this client's frame API (wirecall_client.conformance), each against a fresh
reference conformance server that the Node side starts on request."""

from __future__ import annotations

import glob
import os
import unittest

from support import CONTROL, PROTOCOL_DOCS
from wirecall_client.conformance import run_files

TRANSCRIPTS = sorted(glob.glob(os.path.join(PROTOCOL_DOCS, "conformance", "*.json")))


@unittest.skipUnless(CONTROL, "needs the control endpoint of tests/python/python-client.test.ts")
@unittest.skipUnless(TRANSCRIPTS, "docs/protocol/conformance/ has no transcripts yet")
class Conformance(unittest.IsolatedAsyncioTestCase):
    async def test_every_transcript_passes(self):
        results = await run_files(TRANSCRIPTS, CONTROL)
        self.assertEqual(len(results), len(TRANSCRIPTS))
        for result in results:
            with self.subTest(result.name):
                self.assertTrue(result.passed, result.reason)
