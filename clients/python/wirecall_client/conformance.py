"""A runner for the conformance transcripts of docs/protocol/conformance/
(their README.md is the specification this follows): it plays each
transcript's steps through the low-level frame API (:mod:`.raw`) against
a server, and checks every message and close code the server sends.

Use it as a library (:func:`play`), or from the command line against
servers started through a control endpoint (what tests/python does)::

    python3 -m wirecall_client.conformance --control http://127.0.0.1:PORT docs/protocol/conformance/*.json

The control endpoint answers POST ``/conformance/start`` (body: the
transcript's ``server`` options; answer: ``{"url": ...}``),
``/conformance/serverClose`` (``{graceMs?, reconnectWindowMs?}``) and
``/conformance/stop``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional

from .frames import dumps, parse_json, utf16_length
from .raw import HandshakeRefused, RawConnection, probe_upgrade

__all__ = ["TranscriptError", "ConformanceFailure", "Result", "play", "run_files", "main"]

DEFAULT_TIMEOUT_MS = 2_000
#: Waits are lengthened by this factor (the README allows longer bounds, never shorter).
SLOWDOWN = float(os.environ.get("WIRECALL_CONFORMANCE_SLOWDOWN", "2"))

STEP_KEYS = {
    "connect": {"conn", "protocols", "expectStatus", "timeoutMs"},
    "reconnect": {"conn", "timeoutMs"},
    "send": {"conn", "frame", "text", "binary"},
    "expect": {"conn", "message", "messages", "order", "frame", "timeoutMs"},
    "expectClose": {"conn", "code", "reason", "timeoutMs"},
    "close": {"conn", "code", "reason", "timeoutMs"},
    "dropConnection": {"conn"},
    "wait": {"ms"},
    "serverClose": {"graceMs", "reconnectWindowMs"},
}

NAME = r"[A-Za-z_][A-Za-z0-9_]*"
TYPES = {"any", "string", "number", "integer", "boolean", "object", "array", "eventId"}


class TranscriptError(Exception):
    """The transcript itself is wrong (an unknown op or placeholder, a name bound twice)."""


class ConformanceFailure(Exception):
    """The server did not do what the transcript says."""


@dataclass
class Received:
    message: Dict[str, Any]
    frame: int
    in_array: bool
    index: int
    frame_length: int


@dataclass
class Conn:
    raw: RawConnection
    received: List[Received] = field(default_factory=list)
    frames_seen: int = 0
    cursor: int = 0

    def sync(self) -> None:
        """Turns frames received since the last call into messages; a frame that is not objects fails."""
        while self.frames_seen < len(self.raw.frames):
            frame = self.raw.frames[self.frames_seen]
            number = self.frames_seen
            self.frames_seen += 1
            if not isinstance(frame, str):
                raise ConformanceFailure("the server sent a binary frame")
            try:
                value = parse_json(frame)
            except ValueError:
                raise ConformanceFailure(f"the server sent a frame that is not JSON: {frame[:200]}") from None
            items = value if isinstance(value, list) else [value]
            if not all(isinstance(m, dict) for m in items):
                raise ConformanceFailure(f"the server sent a frame holding something other than objects: {frame[:200]}")
            for i, m in enumerate(items):
                self.received.append(Received(m, number, isinstance(value, list), i, len(items)))

    def unaccounted(self) -> List[Dict[str, Any]]:
        self.sync()
        return [r.message for r in self.received[self.cursor:]]


@dataclass
class Result:
    name: str
    passed: bool
    skipped: bool = False
    step: Optional[int] = None
    reason: str = ""


class Matcher:
    """Patterns and bindings (README, "Patterns")."""

    def __init__(self) -> None:
        self.bindings: Dict[str, Any] = {}

    def match(self, value: Any, pattern: Any, pending: Dict[str, Any]) -> bool:
        if isinstance(pattern, dict):
            if not isinstance(value, dict) or set(value) != set(pattern):
                return False
            return all(self.match(value[k], p, pending) for k, p in pattern.items())
        if isinstance(pattern, list):
            return isinstance(value, list) and len(value) == len(pattern) and all(self.match(v, p, pending) for v, p in zip(value, pattern))
        if isinstance(pattern, bool) or pattern is None:
            return value is pattern
        if isinstance(pattern, (int, float)):
            return isinstance(value, (int, float)) and not isinstance(value, bool) and value == pattern
        if isinstance(pattern, str):
            if not pattern.startswith("$"):
                return value == pattern and isinstance(value, str)
            return self.placeholder(value, pattern, pending)
        raise TranscriptError(f"bad pattern {pattern!r}")

    def placeholder(self, value: Any, pattern: str, pending: Dict[str, Any]) -> bool:
        if pattern.startswith("$$"):
            return value == pattern[1:]
        body = pattern[1:]
        if body in TYPES:
            return self.is_type(value, body)
        m = re.fullmatch(rf"capture:({NAME})(?::([A-Za-z]+))?", body)
        if m:
            name, kind = m.groups()
            if name in self.bindings or name in pending:
                raise TranscriptError(f"the name {name} is bound twice")
            if kind is not None and kind not in TYPES:
                raise TranscriptError(f"unknown placeholder {pattern}")
            if kind is not None and not self.is_type(value, kind):
                return False
            pending[name] = value
            return True
        m = re.fullmatch(rf"use:({NAME})", body)
        if m:
            name = m.group(1)
            if name in pending:
                bound = pending[name]
            elif name in self.bindings:
                bound = self.bindings[name]
            else:
                raise TranscriptError(f"$use of {name}, which is not bound")
            return json_equal(value, bound)
        raise TranscriptError(f"unknown placeholder {pattern}")

    @staticmethod
    def is_type(value: Any, kind: str) -> bool:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return {
            "any": True,
            "string": isinstance(value, str),
            "number": number,
            "integer": number and float(value).is_integer(),
            "boolean": isinstance(value, bool),
            "object": isinstance(value, dict),
            "array": isinstance(value, list),
            "eventId": isinstance(value, str) and utf16_length(value) <= 1024,
        }[kind]

    def try_match(self, value: Any, pattern: Any, pending: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """The bindings a match adds to ``pending``, or None (a failed match binds nothing)."""
        attempt = dict(pending)
        return attempt if self.match(value, pattern, attempt) else None

    def resolve(self, value: Any) -> Any:
        """A `send`'s frame with $use, $repeat and $$ replaced (README, "Values in a send")."""
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, str) and value.startswith("$"):
            if value.startswith("$$"):
                return value[1:]
            m = re.fullmatch(rf"\$use:({NAME})", value)
            if m:
                if m.group(1) not in self.bindings:
                    raise TranscriptError(f"$use of {m.group(1)}, which is not bound")
                return self.bindings[m.group(1)]
            m = re.fullmatch(r"\$repeat:(\d+):(.*)", value, re.S)
            if m:
                return m.group(2) * int(m.group(1))
            raise TranscriptError(f"unknown value {value}")
        return value


def json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


class Player:
    def __init__(self, url: str, server_close: Optional[Callable[[Dict[str, Any]], Awaitable[None]]]) -> None:
        self.url = url
        self.server_close = server_close
        self.conns: Dict[str, Conn] = {}
        self.matcher = Matcher()

    @staticmethod
    def timeout(step: Dict[str, Any]) -> float:
        return step.get("timeoutMs", DEFAULT_TIMEOUT_MS) * SLOWDOWN / 1000

    def conn(self, step: Dict[str, Any]) -> Conn:
        name = step.get("conn", "main")
        if name not in self.conns:
            raise TranscriptError(f"no connection named {name}")
        return self.conns[name]

    def all_accounted(self, conn: Conn, what: str) -> None:
        left = conn.unaccounted()
        if left:
            raise ConformanceFailure(f"{what}: messages no step accounts for: {dumps(left)[:500]}")

    async def wait_for(self, conn: Conn, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        async def wait() -> None:
            while True:
                conn.sync()
                if predicate():
                    return
                if conn.raw.is_closed:
                    conn.sync()
                    if predicate():
                        return
                    raise ConformanceFailure(f"the connection closed ({conn.raw.close_code} {conn.raw.close_reason!r}) while waiting for {what}; unaccounted: {dumps(conn.unaccounted())[:500]}")
                conn.raw._changed.clear()
                await conn.raw._changed.wait()

        try:
            await asyncio.wait_for(wait(), timeout)
        except asyncio.TimeoutError:
            raise ConformanceFailure(f"timed out after {timeout * 1000:.0f} ms waiting for {what}; unaccounted: {dumps(conn.unaccounted())[:500]}") from None

    async def step(self, step: Dict[str, Any]) -> None:
        op = step.get("op")
        if op not in STEP_KEYS:
            raise TranscriptError(f"unknown op {op!r}")
        unknown = set(step) - STEP_KEYS[op] - {"op", "note"}
        if unknown:
            raise TranscriptError(f"{op}: unknown keys {sorted(unknown)}")
        await getattr(self, "op_" + op)(step)

    async def op_connect(self, step: Dict[str, Any]) -> None:
        name = step.get("conn", "main")
        if name in self.conns and not self.conns[name].raw.is_closed:
            raise TranscriptError(f"connection {name} is still open")
        protocols = step.get("protocols", ["wirecall.v1"])
        if "expectStatus" in step:
            outcome = await probe_upgrade(self.url, protocols, self.timeout(step))
            if outcome.status != step["expectStatus"]:
                raise ConformanceFailure(f"upgrade answered {outcome.status}, expected {step['expectStatus']}")
            return
        try:
            raw = await RawConnection.open(self.url, protocols, self.timeout(step))
        except HandshakeRefused as refused:
            raise ConformanceFailure(f"upgrade refused with HTTP {refused.status}") from None
        if raw.protocol != "wirecall.v1":
            raw.abort()
            raise ConformanceFailure(f"the server selected {raw.protocol!r}, not wirecall.v1")
        self.conns[name] = Conn(raw)

    async def op_reconnect(self, step: Dict[str, Any]) -> None:
        name = step.get("conn", "main")
        old = self.conns.get(name)
        if old is not None and not old.raw.is_closed:
            old.raw.abort()
        try:
            raw = await RawConnection.open(self.url, ["wirecall.v1"], self.timeout(step))
        except HandshakeRefused as refused:
            raise ConformanceFailure(f"upgrade refused with HTTP {refused.status}") from None
        self.conns[name] = Conn(raw)

    async def op_send(self, step: Dict[str, Any]) -> None:
        conn = self.conn(step)
        given = [k for k in ("frame", "text", "binary") if k in step]
        if len(given) != 1:
            raise TranscriptError("send needs exactly one of frame, text, binary")
        if "frame" in step:
            data: Any = dumps(self.matcher.resolve(step["frame"]))
        elif "text" in step:
            data = step["text"]
        else:
            data = bytes.fromhex(step["binary"])
        try:
            await conn.raw.ws.send(data)
        except Exception as error:
            raise ConformanceFailure(f"could not send: {error}") from None

    async def op_expect(self, step: Dict[str, Any]) -> None:
        conn = self.conn(step)
        if ("message" in step) == ("messages" in step):
            raise TranscriptError("expect needs message or messages")
        patterns = [step["message"]] if "message" in step else step["messages"]
        order = step.get("order", "sequence")
        frame = step.get("frame", "any")
        n = len(patterns)
        await self.wait_for(conn, lambda: len(conn.received) - conn.cursor >= n, self.timeout(step), f"{n} message(s) {dumps(patterns)[:300]}")
        taken = conn.received[conn.cursor:conn.cursor + n]
        messages = [r.message for r in taken]
        if order == "sequence":
            pending: Optional[Dict[str, Any]] = {}
            for message, pattern in zip(messages, patterns):
                pending = self.matcher.try_match(message, pattern, pending)
                if pending is None:
                    raise ConformanceFailure(f"{dumps(message)[:300]} does not match {dumps(pattern)[:300]}")
        elif order == "any":
            pending = self.assign(messages, patterns, 0, [False] * n, {})
            if pending is None:
                raise ConformanceFailure(f"{dumps(messages)[:500]} do not match {dumps(patterns)[:500]} in any order")
        else:
            raise TranscriptError(f"unknown order {order}")
        if frame == "batch":
            first = taken[0]
            if not (first.in_array and first.index == 0 and first.frame_length == n and all(r.frame == first.frame for r in taken)):
                raise ConformanceFailure(f"{n} message(s) were expected as one array frame of exactly them")
        elif frame == "single":
            if any(r.in_array for r in taken):
                raise ConformanceFailure("a message expected in a plain object frame arrived in an array")
        elif frame != "any":
            raise TranscriptError(f"unknown frame {frame}")
        self.matcher.bindings.update(pending)
        conn.cursor += n

    def assign(self, messages: List[Any], patterns: List[Any], i: int, used: List[bool], pending: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """Patterns in written order, each against the messages not yet taken in arrival order, backtracking."""
        if i == len(patterns):
            return pending
        for j, message in enumerate(messages):
            if used[j]:
                continue
            attempt = self.matcher.try_match(message, patterns[i], pending)
            if attempt is None:
                continue
            used[j] = True
            done = self.assign(messages, patterns, i + 1, used, attempt)
            if done is not None:
                return done
            used[j] = False
        return None

    async def op_expectClose(self, step: Dict[str, Any]) -> None:
        conn = self.conn(step)
        await self.wait_for(conn, lambda: conn.raw.is_closed, self.timeout(step), "the close")
        self.all_accounted(conn, "expectClose")
        code, reason = conn.raw.close_code, conn.raw.close_reason or ""
        if code != step["code"]:
            raise ConformanceFailure(f"closed with {code} {reason!r}, expected {step['code']}")
        if "reason" in step:
            pending = self.matcher.try_match(reason, step["reason"], {})
            if pending is None:
                raise ConformanceFailure(f"close reason {reason!r} does not match {step['reason']!r}")
            self.matcher.bindings.update(pending)

    async def op_close(self, step: Dict[str, Any]) -> None:
        conn = self.conn(step)
        self.all_accounted(conn, "close")
        try:
            await asyncio.wait_for(conn.raw.ws.close(step.get("code", 1000), step.get("reason", "")), self.timeout(step))
        except asyncio.TimeoutError:
            raise ConformanceFailure("the server did not answer the close frame") from None
        await self.wait_for(conn, lambda: conn.raw.is_closed, self.timeout(step), "the server's close frame")

    async def op_dropConnection(self, step: Dict[str, Any]) -> None:
        conn = self.conn(step)
        self.all_accounted(conn, "dropConnection")
        conn.raw.abort()
        await asyncio.wait_for(asyncio.gather(conn.raw._reader, return_exceptions=True), 2)

    async def op_wait(self, step: Dict[str, Any]) -> None:
        await asyncio.sleep(step["ms"] / 1000)

    async def op_serverClose(self, step: Dict[str, Any]) -> None:
        if self.server_close is None:
            raise TranscriptError("serverClose needs a way to reach the server")
        await self.server_close({k: step[k] for k in ("graceMs", "reconnectWindowMs") if k in step})

    async def finish(self) -> None:
        for name, conn in self.conns.items():
            if not conn.raw.is_closed:
                self.all_accounted(conn, f"the end (connection {name})")

    async def close_all(self) -> None:
        for conn in self.conns.values():
            if not conn.raw.is_closed:
                await conn.raw.close()
            else:
                await asyncio.wait_for(asyncio.gather(conn.raw._reader, return_exceptions=True), 2)


async def play(transcript: Dict[str, Any], url: str, server_close: Optional[Callable[[Dict[str, Any]], Awaitable[None]]] = None) -> Result:
    """Plays one transcript against the server at ``url``; ``server_close``
    starts the server's shutdown (for ``serverClose``). A transcript that
    needs it, run without it, is skipped."""
    name = transcript.get("name", "?")
    needs_close = any(s.get("op") == "serverClose" for s in transcript["steps"])
    if needs_close and server_close is None:
        return Result(name, False, skipped=True, reason="serverClose needs a control channel")
    player = Player(url, server_close)
    index = -1
    try:
        for index, step in enumerate(transcript["steps"]):
            await player.step(step)
        await player.finish()
        return Result(name, True)
    except (ConformanceFailure, TranscriptError) as error:
        kind = "transcript error" if isinstance(error, TranscriptError) else "failed"
        return Result(name, False, step=index, reason=f"{kind} at step {index} ({dumps(transcript['steps'][index])[:200]}): {error}")
    finally:
        try:
            await player.close_all()
        except Exception:
            for conn in player.conns.values():
                conn.raw.abort()


def _post(control: str, path: str, body: Dict[str, Any]) -> Dict[str, Any]:
    request = urllib.request.Request(control + path, data=json.dumps(body).encode(), method="POST", headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read() or b"{}")


async def run_files(paths: List[str], control: str) -> List[Result]:
    """Plays each file against a fresh server started through the control endpoint."""
    results = []
    for path in paths:
        with open(path, encoding="utf-8") as file:
            transcript = json.load(file)
        started = await asyncio.to_thread(_post, control, "/conformance/start", {"server": transcript.get("server", {})})

        async def server_close(options: Dict[str, Any]) -> None:
            await asyncio.to_thread(_post, control, "/conformance/serverClose", options)

        try:
            result = await play(transcript, started["url"], server_close)
        finally:
            stopped = await asyncio.to_thread(_post, control, "/conformance/stop", {})
        if result.passed and stopped.get("error"):
            result = Result(result.name, False, reason=f"the server after the transcript: {stopped['error']}")
        results.append(result)
    return results


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Plays wirecall conformance transcripts.")
    parser.add_argument("--control", required=True, help="the control endpoint that starts servers")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    results = asyncio.run(run_files(args.files, args.control))
    for r in results:
        print(("PASS " if r.passed else "SKIP " if r.skipped else "FAIL ") + r.name + ("" if r.passed else f": {r.reason}"))
    passed = sum(r.passed for r in results)
    failed = sum(not r.passed and not r.skipped for r in results)
    print(f"{passed} passed, {failed} failed" + (f", {len(results) - passed - failed} skipped" if len(results) - passed - failed else ""))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
