"""Frames: parsing and validating what the server sends, and writing what the
client sends (docs/protocol.md, "Frames", "What closes the connection",
"Messages")."""

from __future__ import annotations

import json
import math
import re
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

__all__ = [
    "SUBPROTOCOL",
    "MAX_BATCH",
    "MAX_ID",
    "FrameError",
    "parse_json",
    "parse_server_frame",
    "parse_client_frame",
    "dumps",
    "utf16_length",
    "valid_id",
    "SOCKET_OPTIONS",
]

SUBPROTOCOL = "wirecall.v1"

#: How every socket of this package is opened with ``websockets.connect``:
#: the protocol does its own keep-alive, size checks and timeouts, so the
#: library's are off, and frames are never compressed.
SOCKET_OPTIONS: Dict[str, Any] = dict(
    ping_interval=None,
    ping_timeout=None,
    close_timeout=1,
    max_size=None,
    max_queue=None,
    compression=None,
    open_timeout=None,
)
MAX_BATCH = 1000
MAX_ID = 2**53 - 1
MAX_PATH_LENGTH = 1024
MAX_EVENT_ID_LENGTH = 1024
MAX_IDEMPOTENCY_KEY_LENGTH = 128
MAX_RESTART_DELAY_MS = 3_600_000


class FrameError(ValueError):
    """An invalid frame: the receiver closes the connection with 4400."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _number(text: str) -> Union[int, float]:
    # Every JSON number is a double in JavaScript: integers past 2**53 lose precision there.
    value = int(text)
    return value if -MAX_ID <= value <= MAX_ID else float(value)


def parse_json(text: str) -> Any:
    """``JSON.parse``: strict JSON (no NaN/Infinity literals), the last of a
    duplicated key wins, integers as JavaScript reads them."""
    return json.loads(text, parse_constant=_refuse_constant, parse_int=_number)


def js_number(value: float) -> str:
    """``Number.prototype.toString()`` for a finite number, as ``JSON.stringify`` writes it
    (``1`` not ``1.0``, ``1e-7`` not ``1e-07``, ``123456789012345680000`` not ``1.2345678901234568e+20``)."""
    if value == 0:
        return "0"
    text = repr(float(value))
    sign = ""
    if text[0] == "-":
        sign, text = "-", text[1:]
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # value = 0.DIGITS x 10**n
    n = len(whole) + int(exponent or 0) if whole != "0" else int(exponent or 0) - (len(fraction) - len(fraction.lstrip("0")))
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + out


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f\ud800-\udfff]')


def _js_string(text: str) -> str:
    """``JSON.stringify`` of a string: control characters escaped, lone surrogates as ``\\udXXX``."""
    if not _NEEDS_ESCAPE.search(text):
        return '"' + text + '"'
    out = []
    for c in text:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif c < " " or "\ud800" <= c <= "\udfff":
            out.append("\\u%04x" % ord(c))
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def dumps(value: Any) -> str:
    """``JSON.stringify`` for JSON values: compact, keys in order, non-ASCII
    as is, numbers as JavaScript writes them. NaN and Infinity are refused
    (they travel as superjson's strings)."""
    parts: List[str] = []

    def write(v: Any) -> None:
        if v is None:
            parts.append("null")
        elif v is True:
            parts.append("true")
        elif v is False:
            parts.append("false")
        elif isinstance(v, str):
            parts.append(_js_string(v))
        elif isinstance(v, int):
            parts.append(str(int(v)))
        elif isinstance(v, float):
            if not math.isfinite(v):
                raise ValueError("NaN and Infinity are not JSON")
            parts.append(js_number(v))
        elif isinstance(v, (list, tuple)):
            parts.append("[")
            for i, item in enumerate(v):
                if i:
                    parts.append(",")
                write(item)
            parts.append("]")
        elif isinstance(v, dict):
            parts.append("{")
            for i, (key, item) in enumerate(v.items()):
                if not isinstance(key, str):
                    raise TypeError(f"a JSON object key must be a string, not {type(key).__name__}")
                if i:
                    parts.append(",")
                parts.append(_js_string(key))
                parts.append(":")
                write(item)
            parts.append("}")
        else:
            raise TypeError(f"{type(v).__name__} is not JSON")

    write(value)
    return "".join(parts)


def utf16_length(text: str) -> int:
    """A string's length as JavaScript counts it, in UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def valid_id(v: Any) -> bool:
    """An integer from 0 to 2**53 - 1, sent as a JSON number (``1.0`` and ``-0`` included)."""
    if not _is_number(v):
        return False
    if isinstance(v, float) and (not math.isfinite(v) or not v.is_integer()):
        return False
    return 0 <= v <= MAX_ID


def _integer(v: Any) -> bool:
    return _is_number(v) and (not isinstance(v, float) or (math.isfinite(v) and v.is_integer()))


def _string(v: Any) -> bool:
    return isinstance(v, str)


def _path(v: Any) -> bool:
    return isinstance(v, str) and 0 < utf16_length(v) <= MAX_PATH_LENGTH


def _event_id(v: Any) -> bool:
    return isinstance(v, str) and utf16_length(v) <= MAX_EVENT_ID_LENGTH


def _any(v: Any) -> bool:
    return True


Rule = Tuple[Callable[[Any], bool], bool]  # (check, optional)
_ID: Rule = (valid_id, False)
_PAYLOAD: Rule = (_any, True)

SERVER_SHAPES: Dict[str, Dict[str, Rule]] = {
    "ack": {"maxPayload": (lambda v: _integer(v) and v > 0, True)},
    "result": {"id": _ID, "data": _PAYLOAD, "meta": _PAYLOAD},
    "error": {"id": _ID, "code": (_string, False), "message": (_string, False), "data": _PAYLOAD, "meta": _PAYLOAD},
    "started": {"id": _ID, "eventId": (_event_id, True)},
    "data": {"id": _ID, "data": _PAYLOAD, "meta": _PAYLOAD, "eventId": (_event_id, True)},
    "resync": {"id": _ID},
    "complete": {"id": _ID},
    "restart": {"delayMs": (lambda v: _integer(v) and 0 <= v <= MAX_RESTART_DELAY_MS, False)},
    "ping": {},
    "pong": {},
}

CLIENT_SHAPES: Dict[str, Dict[str, Rule]] = {
    "init": {"params": _PAYLOAD, "meta": _PAYLOAD},
    "call": {
        "id": _ID,
        "method": (lambda v: v in ("query", "mutation") and isinstance(v, str), False),
        "path": (_path, False),
        "input": _PAYLOAD,
        "meta": _PAYLOAD,
        "idempotencyKey": (lambda v: isinstance(v, str) and 0 < utf16_length(v) <= MAX_IDEMPOTENCY_KEY_LENGTH, True),
    },
    "cancel": {"id": _ID},
    "subscribe": {"id": _ID, "path": (_path, False), "input": _PAYLOAD, "meta": _PAYLOAD, "lastEventId": (_event_id, True)},
    "unsubscribe": {"id": _ID},
    "reinit": {"id": _ID, "params": _PAYLOAD, "meta": _PAYLOAD},
    "ping": {},
    "pong": {},
}


def _check(message: Any, shapes: Dict[str, Dict[str, Rule]]) -> Optional[str]:
    if not isinstance(message, dict):
        return "message is not an object"
    kind = message.get("type")
    if not isinstance(kind, str):
        return "message has no type"
    fields = shapes.get(kind)
    if fields is None:
        return "unknown message type"
    for field, (check, optional) in fields.items():
        if field not in message:
            if optional:
                continue
            return f"{kind}: missing {field}"
        if not check(message[field]):
            return f"{kind}: invalid {field}"
    return None


def _normalise_ids(message: Dict[str, Any]) -> Dict[str, Any]:
    # `1.0` and `-0.0` are the ids 1 and 0; integral numbers become ints.
    for field in ("id", "maxPayload", "delayMs"):
        v = message.get(field)
        if isinstance(v, float) and field in message and v.is_integer():
            message[field] = int(v)
    return message


def _parse(text: Union[str, bytes], shapes: Dict[str, Dict[str, Rule]]) -> List[Dict[str, Any]]:
    if not isinstance(text, str):
        raise FrameError("binary frame")
    try:
        value = parse_json(text)
    except ValueError:
        raise FrameError("frame is not JSON") from None
    except RecursionError:
        raise FrameError("frame nested too deeply") from None
    if isinstance(value, list):
        if not value:
            raise FrameError("empty batch")
        if len(value) > MAX_BATCH:
            raise FrameError(f"batch larger than {MAX_BATCH} messages")
        for i, message in enumerate(value):
            reason = _check(message, shapes)
            if reason is not None:
                raise FrameError(f"message {i}: {reason}")
        return [_normalise_ids(m) for m in value]
    reason = _check(value, shapes)
    if reason is not None:
        raise FrameError(reason)
    return [_normalise_ids(value)]


def parse_server_frame(text: Union[str, bytes]) -> List[Dict[str, Any]]:
    """The messages of a frame from the server, validated all or nothing.
    Raises :class:`FrameError` for an invalid frame (close with 4400)."""
    return _parse(text, SERVER_SHAPES)


def parse_client_frame(text: Union[str, bytes]) -> List[Dict[str, Any]]:
    """The same for a frame a client sent (used by tests and tools)."""
    return _parse(text, CLIENT_SHAPES)
