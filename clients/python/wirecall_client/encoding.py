"""Payload encoding: superjson's ``{ json, meta }`` format, as wirecall's
default serializer writes and reads it (docs/protocol.md, "Payload encoding").

A value travels as ``json`` (plain JSON) plus an optional ``meta`` that says
how to rebuild richer JavaScript types::

    meta = { "values": <annotation tree>, "referentialEqualities": ..., "v": 1 }

Python stand-ins for the JavaScript types:

==========================  ================================================
JavaScript                  Python
==========================  ================================================
``undefined``               :data:`UNDEFINED`
``null``                    ``None``
number                      ``int`` (within ±(2**53 - 1)) or ``float``;
                            ``NaN``, ``±Infinity`` and ``-0`` as floats
``bigint``                  :class:`BigInt` (an ``int``); a plain ``int``
                            outside ±(2**53 - 1) is sent as a bigint too
``Date``                    ``datetime.datetime`` (UTC, milliseconds), or
                            :class:`JsDate` for dates Python cannot hold
``Map``                     :class:`JsMap` (keys of any type, in order)
``Set``                     :class:`JsSet` (in order); ``set`` and
                            ``frozenset`` are sent as Sets too
``URL``                     :class:`JsURL` (a ``str``)
``RegExp``                  :class:`JsRegExp`
``Error``                   :class:`JsError`
typed arrays                :class:`TypedArray`
array, plain object         ``list`` (or ``tuple``), ``dict`` (string keys)
==========================  ================================================

Repeated references to one object (and cycles) survive both ways: a value
met twice when encoding is written once plus a ``referentialEqualities``
entry, and decoding puts the same Python object at every path.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
import struct
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

__all__ = [
    "UNDEFINED",
    "Undefined",
    "BigInt",
    "JsDate",
    "JsMap",
    "JsSet",
    "JsURL",
    "JsRegExp",
    "JsError",
    "NO_CAUSE",
    "TypedArray",
    "EncodingError",
    "serialize",
    "deserialize",
    "decode_payload",
    "encode_payload",
    "is_json_plain",
    "same_value_zero_key",
]

MAX_SAFE_INTEGER = 2**53 - 1
#: Nesting depth past which the plain-JSON fast path gives up (as the reference codec).
PLAIN_DEPTH_LIMIT = 64
#: Deepest ``json`` that decoding with ``meta`` accepts.
MAX_DECODE_DEPTH = 1000


class EncodingError(ValueError):
    """A value that cannot be encoded, or a payload that cannot be decoded."""


def _fail(why: str) -> Any:
    raise EncodingError(why)


# ---- the JavaScript types ------------------------------------------------------


class Undefined:
    """JavaScript's ``undefined``: a singleton, :data:`UNDEFINED`."""

    _instance: Optional["Undefined"] = None

    def __new__(cls) -> "Undefined":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "UNDEFINED"


UNDEFINED = Undefined()


class BigInt(int):
    """A JavaScript ``bigint``: an ``int`` that is always sent as a bigint."""

    def __repr__(self) -> str:
        return f"BigInt({int(self)})"


class JsDate:
    """A JavaScript ``Date`` that ``datetime`` cannot hold: outside years
    1 to 9999, or invalid (``ms is None``). ``ms`` is milliseconds since the
    epoch, as ``Date.prototype.getTime()`` gives."""

    __slots__ = ("ms",)

    def __init__(self, ms: Optional[int]) -> None:
        self.ms = ms

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsDate) and other.ms == self.ms

    def __hash__(self) -> int:
        return hash(("JsDate", self.ms))

    def __repr__(self) -> str:
        return f"JsDate({self.ms})"

    def iso(self) -> Optional[str]:
        """``Date.prototype.toJSON()``: ISO 8601 with extended years, or None when invalid."""
        return None if self.ms is None else _iso_from_ms(self.ms)


def same_value_zero_key(value: Any) -> Any:
    """The key under which JavaScript's Map and Set (SameValueZero) see
    ``value``: numbers by value (NaN equals NaN, -0 equals 0), strings,
    booleans, null, undefined and bigints by value, objects by identity."""
    if value is None:
        return ("null",)
    if value is UNDEFINED:
        return ("undefined",)
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, BigInt):
        return ("bigint", int(value))
    if isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return ("number", value)
        return ("bigint", value)
    if isinstance(value, float):
        if value != value:
            return ("number", "NaN")
        return ("number", value)  # -0.0 == 0.0 and hash alike
    if isinstance(value, str) and type(value) is str:
        return ("string", value)
    return ("object", id(value))


def _plus_zero(value: Any) -> Any:
    """A Set element or Map key of -0 is stored as 0, as JavaScript stores it."""
    return 0.0 if type(value) is float and value == 0 else value


class JsSet:
    """A JavaScript ``Set``: elements of any type, in insertion order,
    compared as JavaScript compares them (SameValueZero: objects by
    identity)."""

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self._items: List[Any] = []
        self._keys: Dict[Any, int] = {}
        for item in items:
            self.add(item)

    def add(self, item: Any) -> "JsSet":
        item = _plus_zero(item)
        key = same_value_zero_key(item)
        if key not in self._keys:
            self._keys[key] = len(self._items)
            self._items.append(item)
        return self

    def __contains__(self, item: Any) -> bool:
        return same_value_zero_key(item) in self._keys

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (set, frozenset)):
            other = JsSet(other)
        if not isinstance(other, JsSet) or len(other) != len(self):
            return False
        return all(item in other for item in self._items)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"JsSet({self._items!r})"


class JsMap:
    """A JavaScript ``Map``: keys of any type, in insertion order, compared
    as JavaScript compares them (SameValueZero: objects by identity)."""

    def __init__(self, entries: Iterable[Tuple[Any, Any]] = ()) -> None:
        self._keys: List[Any] = []
        self._values: List[Any] = []
        self._index: Dict[Any, int] = {}
        if isinstance(entries, dict):
            entries = entries.items()
        for key, value in entries:
            self[key] = value

    def __setitem__(self, key: Any, value: Any) -> None:
        key = _plus_zero(key)
        k = same_value_zero_key(key)
        if k in self._index:
            self._values[self._index[k]] = value
        else:
            self._index[k] = len(self._keys)
            self._keys.append(key)
            self._values.append(value)

    set = __setitem__

    def __getitem__(self, key: Any) -> Any:
        return self._values[self._index[same_value_zero_key(key)]]

    def get(self, key: Any, default: Any = None) -> Any:
        i = self._index.get(same_value_zero_key(key))
        return default if i is None else self._values[i]

    def __contains__(self, key: Any) -> bool:
        return same_value_zero_key(key) in self._index

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._keys))

    def __len__(self) -> int:
        return len(self._keys)

    def keys(self) -> List[Any]:
        return list(self._keys)

    def values(self) -> List[Any]:
        return list(self._values)

    def items(self) -> List[Tuple[Any, Any]]:
        return list(zip(self._keys, self._values))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, dict):
            other = JsMap(other)
        if not isinstance(other, JsMap) or len(other) != len(self):
            return False
        return all(k in other and other[k] == v for k, v in self.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"JsMap({self.items()!r})"


class JsURL(str):
    """A JavaScript ``URL``, as its ``href``."""

    def __repr__(self) -> str:
        return f"JsURL({str.__repr__(self)})"


_FLAG_ORDER = "dgimsuvy"


def _regexp_source(source: str) -> str:
    """``RegExp.prototype.source``: ``/`` escaped outside classes, line terminators escaped, ``(?:)`` when empty."""
    if source == "":
        return "(?:)"
    out = []
    in_class = escaped = False
    for c in source:
        if escaped:
            out.append(c)
            escaped = False
            continue
        if c == "\\":
            escaped = True
        elif c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "/" and not in_class:
            out.append("\\/")
            continue
        elif c in "\n\r\u2028\u2029":
            out.append({"\n": "\\n", "\r": "\\r", "\u2028": "\\u2028", "\u2029": "\\u2029"}[c])
            continue
        out.append(c)
    return "".join(out)


class JsRegExp:
    """A JavaScript ``RegExp``: its source and flags, as ``new RegExp(source,
    flags)`` normalises them (not compiled: the syntax is JavaScript's)."""

    __slots__ = ("source", "flags")

    def __init__(self, source: str, flags: str = "") -> None:
        if any(f not in _FLAG_ORDER for f in flags) or len(set(flags)) != len(flags) or ("u" in flags and "v" in flags):
            raise EncodingError(f"invalid RegExp flags {flags!r}")
        self.source = _regexp_source(source)
        self.flags = "".join(f for f in _FLAG_ORDER if f in flags)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsRegExp) and (other.source, other.flags) == (self.source, self.flags)

    def __hash__(self) -> int:
        return hash(("JsRegExp", self.source, self.flags))

    def __str__(self) -> str:
        return f"/{self.source}/{self.flags}"

    def __repr__(self) -> str:
        return f"JsRegExp({self.source!r}, {self.flags!r})"


class _NoCause:
    def __repr__(self) -> str:
        return "NO_CAUSE"


#: A :class:`JsError` without a ``cause`` property (unlike one whose cause is ``undefined``).
NO_CAUSE: Any = _NoCause()


class JsError:
    """A JavaScript ``Error`` as superjson carries it: ``name``, ``message``,
    and ``cause`` (:data:`NO_CAUSE` when it has no cause property; an Error
    decoded from the wire always has one, :data:`UNDEFINED` when the
    payload gave none, as the reference decoder does)."""

    __slots__ = ("name", "message", "cause")

    def __init__(self, name: Any = "Error", message: Any = "", cause: Any = NO_CAUSE) -> None:
        self.name = name
        self.message = message
        self.cause = cause

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JsError) or (other.name, other.message) != (self.name, self.message):
            return False
        a = UNDEFINED if self.cause is NO_CAUSE else self.cause
        b = UNDEFINED if other.cause is NO_CAUSE else other.cause
        return _eq_cause(a, b)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        cause = "" if self.cause is NO_CAUSE else f", cause={self.cause!r}"
        return f"JsError({self.name!r}, {self.message!r}{cause})"


def _eq_cause(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except RecursionError:
        return False


_TYPED_INT = {
    "Int8Array": (8, True),
    "Uint8Array": (8, False),
    "Int16Array": (16, True),
    "Uint16Array": (16, False),
    "Int32Array": (32, True),
    "Uint32Array": (32, False),
}
TYPED_ARRAY_NAMES = frozenset(list(_TYPED_INT) + ["Uint8ClampedArray", "Float32Array", "Float64Array"])


class TypedArray:
    """A JavaScript typed array: its class name (``"Uint8Array"``,
    ``"Float64Array"``...) and its elements, converted as the typed array
    converts them (wrapped integers, float32 rounding)."""

    __slots__ = ("kind", "values")

    def __init__(self, kind: str, values: Iterable[Any] = ()) -> None:
        if kind not in TYPED_ARRAY_NAMES:
            raise EncodingError(f"unsupported typed array {kind}")
        self.kind = kind
        self.values = [_to_element(kind, v) for v in values]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TypedArray) or other.kind != self.kind or len(other.values) != len(self.values):
            return False
        return all(_same_number(a, b) for a, b in zip(self.values, other.values))

    __hash__ = object.__hash__

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.values)

    def __repr__(self) -> str:
        return f"TypedArray({self.kind!r}, {self.values!r})"


def _same_number(a: Any, b: Any) -> bool:
    """Object.is for numbers."""
    if isinstance(a, float) and isinstance(b, float):
        if a != a and b != b:
            return True
        if a == 0 and b == 0:
            return math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


def _js_to_number(v: Any) -> float:
    """JavaScript's ToNumber for the JSON values a typed array may be built from."""
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    if v is None:
        return 0.0
    if isinstance(v, str):
        s = v.strip(" \t\n\r\x0b\x0c\u00a0\ufeff\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
        if s == "":
            return 0.0
        if re.fullmatch(r"[+-]?(Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)", s):
            return float(s.replace("Infinity", "inf"))
        for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
            if s.lower().startswith(prefix):
                try:
                    return float(int(s[2:], base))
                except ValueError:
                    return math.nan
        return math.nan
    return math.nan


def _to_element(kind: str, v: Any) -> Any:
    n = _js_to_number(v)
    if kind == "Float64Array":
        return n
    if kind == "Float32Array":
        if n != n or math.isinf(n):
            return n
        try:
            return struct.unpack("<f", struct.pack("<f", n))[0]
        except OverflowError:
            return math.copysign(math.inf, n)
    if kind == "Uint8ClampedArray":
        if n != n:
            return 0
        if n <= 0:
            return 0
        if n >= 255:
            return 255
        return int(round(n))  # round half to even, as the spec says
    bits, signed = _TYPED_INT[kind]
    if n != n or math.isinf(n):
        return 0
    i = int(n) % (1 << bits)
    if signed and i >= 1 << (bits - 1):
        i -= 1 << bits
    return i


# ---- numbers and dates ---------------------------------------------------------


def _special(n: float) -> Any:
    """NaN, ±Infinity and -0 as superjson writes them; other numbers unchanged."""
    if n != n:
        return "NaN"
    if math.isinf(n):
        return "Infinity" if n > 0 else "-Infinity"
    if n == 0 and math.copysign(1, n) < 0:
        return "-0"
    return n


_UNSPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0": -0.0}


def _unspecial(x: Any) -> Any:
    """The inverse of :func:`_special`: a number, or one of its four strings; anything else fails."""
    if isinstance(x, str) and x in _UNSPECIAL:
        return _UNSPECIAL[x]
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return x
    return _fail("bad number")


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
MAX_DATE_MS = 8_640_000_000_000_000


def _days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = y // 400  # floor division: Hinnant's algorithm, for negative years too
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z: int) -> Tuple[int, int, int]:
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return y + (m <= 2), m, d


def _iso_from_ms(ms: int) -> str:
    days, rest = divmod(ms, 86_400_000)
    y, m, d = _civil_from_days(days)
    hh, rest = divmod(rest, 3_600_000)
    mm, rest = divmod(rest, 60_000)
    ss, msec = divmod(rest, 1000)
    year = f"{y:04d}" if 0 <= y <= 9999 else (f"+{y:06d}" if y > 0 else f"-{-y:06d}")
    return f"{year}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}.{msec:03d}Z"


_ISO = re.compile(
    r"([+-]\d{6}|\d{4})(?:-(\d{2})(?:-(\d{2}))?)?"
    r"(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?"
)


def _ms_from_iso(text: str) -> Optional[int]:
    """Milliseconds since the epoch for the ISO 8601 forms ``Date`` parses
    (``toJSON``'s among them); None for anything else (an invalid Date)."""
    match = _ISO.fullmatch(text)
    if not match:
        return None
    year_s, mon, day, hh, mi, ss, frac, zone = match.groups()
    if year_s == "-000000":
        return None
    year = int(year_s)
    month = int(mon or 1)
    dday = int(day or 1)
    h, m, s = int(hh or 0), int(mi or 0), int(ss or 0)
    msec = int((frac or "0")[:3].ljust(3, "0"))
    if not (1 <= month <= 12) or not (1 <= dday <= _days_in_month(year, month)):
        return None
    if h > 24 or m > 59 or s > 59 or (h == 24 and (m or s or msec)):
        return None
    if hh is not None and zone is None:
        return None  # local time: this client has no time zone of the peer's to read it in
    offset = 0
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        oh, om = int(zone[1:3]), int(zone[4:6])
        if oh > 23 or om > 59:
            return None
        offset = sign * (oh * 60 + om) * 60_000
    ms = _days_from_civil(year, month, dday) * 86_400_000 + ((h * 60 + m) * 60 + s) * 1000 + msec - offset
    return ms if abs(ms) <= MAX_DATE_MS else None


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _date_from_ms(ms: Optional[int]) -> Any:
    if ms is None:
        return JsDate(None)
    try:
        return _EPOCH + _dt.timedelta(milliseconds=ms)
    except OverflowError:
        return JsDate(ms)


def _revive_date(v: Any) -> Any:
    """``new Date(v)`` for what superjson writes (an ISO string), and a number of milliseconds."""
    if isinstance(v, str):
        return _date_from_ms(_ms_from_iso(v))
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if v != v or math.isinf(v) or abs(v) > MAX_DATE_MS:
            return JsDate(None)
        return _date_from_ms(int(v))
    if v is None or isinstance(v, bool):
        return _date_from_ms(int(bool(v)))
    return JsDate(None)  # new Date(object): an invalid Date


def _date_json(value: Any) -> Optional[str]:
    """``Date.prototype.toJSON()`` for a datetime (a naive one is read as UTC) or a JsDate."""
    if isinstance(value, JsDate):
        return value.iso()
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    delta = value - _EPOCH
    ms = (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    return _iso_from_ms(ms)


def _revive_bigint(v: Any) -> BigInt:
    """``BigInt(v)`` for the values superjson writes (a decimal string) and the others BigInt accepts."""
    if isinstance(v, bool):
        return BigInt(int(v))
    if isinstance(v, int):
        return BigInt(v)
    if isinstance(v, float):
        if v.is_integer():
            return BigInt(int(v))
        return _fail("bad bigint")
    if isinstance(v, str):
        s = v.strip(" \t\n\r\x0b\x0c\u00a0\ufeff\u2028\u2029")
        if s == "":
            return BigInt(0)
        if re.fullmatch(r"[+-]?[0-9]+", s):
            return BigInt(int(s))
        for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
            if s[:2].lower() == prefix and re.fullmatch(r"[0-9a-fA-F]+", s[2:]):
                try:
                    return BigInt(int(s[2:], base))
                except ValueError:
                    break
        return _fail("bad bigint")
    return _fail("bad bigint")


# ---- the plain-JSON fast path --------------------------------------------------


def is_json_plain(value: Any, depth: int = 0) -> bool:
    """True for values that plain JSON carries faithfully: None, booleans,
    strings, numbers (finite, not -0, integers within ±(2**53 - 1)), and
    lists, tuples and string-keyed dicts of those. Such values travel with
    no ``meta``."""
    t = type(value)
    if value is None or t is bool or t is str:
        return True
    if t is int:
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    if t is float:
        return math.isfinite(value) and not (value == 0 and math.copysign(1, value) < 0)
    if depth >= PLAIN_DEPTH_LIMIT:
        return False
    if t is list or t is tuple:
        return all(is_json_plain(item, depth + 1) for item in value)
    if t is dict:
        return all(type(k) is str and is_json_plain(v, depth + 1) for k, v in value.items())
    return False


# ---- encode --------------------------------------------------------------------

_FORBIDDEN = re.compile(r"(__proto__|constructor|prototype)")
_INDEX = re.compile(r"0|[1-9][0-9]*")


def _js_key_order(keys: List[str]) -> List[str]:
    """The order JavaScript enumerates an object's keys in: array indices
    ascending, then the other keys in insertion order."""
    indices = [k for k in keys if _INDEX.fullmatch(k) and int(k) < 2**32 - 1]
    if not indices:
        return keys
    others = [k for k in keys if not (_INDEX.fullmatch(k) and int(k) < 2**32 - 1)]
    return sorted(indices, key=int) + others


def _escape(key: str) -> str:
    return re.sub(r"([\\.])", r"\\\1", key)


def _track_key(v: Any) -> Any:
    """What superjson tracks for referential equality: every object, and bigints and NaN by value."""
    if v is None or v is UNDEFINED or isinstance(v, bool) or type(v) is str:
        return None
    if isinstance(v, BigInt) or (type(v) is int and not -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER):
        return ("bigint", int(v))
    if isinstance(v, (int, float)):
        return ("NaN",) if v != v else None
    if isinstance(v, tuple):
        return None  # immutable (and `()` is a singleton): identity means nothing
    return ("object", id(v))


def _transform(v: Any) -> Optional[Tuple[Any, Any, bool]]:
    """superjson's transform for ``v``: ``(annotation, json, walk json?)``, or None when it has none."""
    if isinstance(v, bool) or v is None or type(v) is str:
        return None
    if isinstance(v, BigInt):
        return ("bigint", str(int(v)), False)
    if isinstance(v, int):
        if -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER:
            return None
        return ("bigint", str(v), False)
    if isinstance(v, float):
        json_value = _special(v)
        return None if json_value is v else ("number", json_value, False)
    if v is UNDEFINED:
        return ("undefined", None, False)
    if isinstance(v, TypedArray):
        if v.kind in ("Float32Array", "Float64Array") and any(_special(x) is not x for x in v.values):
            return (["custom", "wirecall." + v.kind], [_special(x) for x in v.values], False)
        return (["typed-array", v.kind], list(v.values), False)
    if isinstance(v, JsError):
        json_value: Dict[str, Any] = {"name": v.name, "message": v.message}
        if v.cause is not NO_CAUSE:
            json_value["cause"] = v.cause
        return ("Error", json_value, True)
    if isinstance(v, JsRegExp):
        return ("regexp", str(v), False)
    if isinstance(v, (_dt.datetime, JsDate)):
        iso = _date_json(v)
        return None if iso is None else ("Date", iso, False)
    if isinstance(v, JsURL):
        return ("URL", str(v), False)
    if isinstance(v, (JsSet, set, frozenset)):
        return ("set", list(v), True)
    if isinstance(v, JsMap):
        return ("map", [[k, x] for k, x in v.items()], True)
    return None


def _encode(value: Any) -> Tuple[Any, Any]:
    # For each tracked value: the paths it was met at, and what it encoded to.
    seen: Dict[Any, List[Any]] = {}

    def walk(v: Any, path: List[str]) -> Tuple[Any, Any]:
        entry = None
        key = _track_key(v)
        if key is not None:
            entry = seen.get(key)
            if entry is not None:
                entry[0].append(path)
                if entry[1] is not None:
                    return entry[1]
            else:
                entry = seen[key] = [[path], None]
        t = _transform(v)
        walk_in = t[2] if t else isinstance(v, (dict, list, tuple))
        if not walk_in:
            if t is not None:
                result: Tuple[Any, Any] = (t[1], [t[0]])
            elif v is None or isinstance(v, (bool, str, int, float)):
                result = (v, None)
            elif isinstance(v, _dt.datetime) or isinstance(v, JsDate):
                result = (None, None)  # an invalid Date: JSON.stringify writes null
            else:
                raise EncodingError(f"cannot encode a value of type {type(v).__name__}")
        else:
            entry_result_placeholder: Tuple[Any, Any] = (None, None)
            if entry is not None:
                entry[1] = entry_result_placeholder
            source = t[1] if t else v
            if isinstance(source, dict):
                for k in source:
                    if not isinstance(k, str):
                        raise EncodingError(f"cannot encode a dict key of type {type(k).__name__} (use JsMap)")
                items = [(k, source[k]) for k in _js_key_order(list(source))]
                json_value: Any = {}
            else:
                items = [(str(i), x) for i, x in enumerate(source)]
                json_value = []
            inner: Dict[str, Any] = {}
            annotated = False
            for k, child in items:
                segment = _escape(k)
                child_json, annotations = walk(child, path + [segment])
                if isinstance(json_value, list):
                    json_value.append(child_json)
                else:
                    json_value[k] = child_json
                if not annotations:
                    continue
                if _FORBIDDEN.fullmatch(k):
                    raise EncodingError("forbidden key " + k)
                if isinstance(annotations, list):
                    inner[segment] = annotations
                else:
                    for p, tree in annotations.items():
                        inner[segment + "." + p] = tree
                annotated = True
            if annotated:
                inner = {p: inner[p] for p in _js_key_order(list(inner))}  # a JavaScript object's key order
                result = (json_value, [t[0], inner] if t else inner)
            else:
                result = (json_value, [t[0]] if t else None)
        if entry is not None:
            entry[1] = result
        return result

    json_value, values = walk(value, [])
    root = None
    table: Optional[Dict[str, List[str]]] = None
    for paths, _ in seen.values():
        if len(paths) > 1:
            for p in paths:
                for segment in p:
                    if _FORBIDDEN.fullmatch(segment):
                        raise EncodingError("forbidden key " + segment)
            ordered = sorted(paths, key=len)
            joined = [".".join(p) for p in ordered]
            if len(ordered[0]):
                if table is None:
                    table = {}
                table[joined[0]] = joined[1:]
            else:
                root = joined[1:]
    if table:
        table = {p: table[p] for p in _js_key_order(list(table))}
    references: Any = ([root, table] if table else [root]) if root is not None else table
    if not values and not references:
        return json_value, None
    meta: Dict[str, Any] = {}
    if values:
        meta["values"] = values
    if references:
        meta["referentialEqualities"] = references
    meta["v"] = 1
    return json_value, meta


def serialize(value: Any) -> Tuple[Any, Optional[Dict[str, Any]]]:
    """Encodes ``value`` as ``(json, meta)``; ``meta`` is None for plain JSON.
    Raises :class:`EncodingError` for what cannot be encoded (a dict with
    non-string keys, an object of an unknown class)."""
    if is_json_plain(value):
        return value, None
    try:
        return _encode(value)
    except RecursionError:
        raise EncodingError("value nested too deeply") from None


# ---- decode --------------------------------------------------------------------

def _parse_path(path: Any) -> List[str]:
    """superjson's path: segments joined by ``.``, with ``\\.`` and ``\\\\`` escaped."""
    if not isinstance(path, str):
        return _fail("bad path")
    segments: List[str] = []
    current = []
    i = 0
    while i < len(path):
        c = path[i]
        if c == "\\":
            nxt = path[i + 1] if i + 1 < len(path) else ""
            if nxt not in (".", "\\"):
                return _fail("bad path")
            current.append(nxt)
            i += 2
            continue
        if c == ".":
            segments.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    segments.append("".join(current))
    return segments


class _Decoder:
    def __init__(self) -> None:
        # Sets and Maps being built, each with the JSON list it is filled from at the end.
        self.pending: Dict[int, Tuple[Any, List[Any]]] = {}

    def own(self, o: Any, key: Any) -> Any:
        """``o[key]`` for an own property of an object (an array's index, not its length); fails otherwise."""
        if not isinstance(key, str) or _FORBIDDEN.fullmatch(key):
            return _fail(f"bad path {key}")
        if isinstance(o, dict):
            if key in o:
                return o[key]
        elif isinstance(o, list):
            if _INDEX.fullmatch(key) and int(key) < len(o):
                return o[int(key)]
        elif isinstance(o, JsError):
            # A revived Error's own properties: name, message, cause, and stack (kept empty).
            if key in ("name", "message", "cause"):
                return getattr(o, key)
            if key == "stack":
                return UNDEFINED
        return _fail(f"bad path {key}")

    def put(self, box: Any, index: str, value: Any) -> None:
        if isinstance(box, list):
            box[int(index)] = value
        elif isinstance(box, dict):
            box[index] = value
        elif isinstance(box, JsError) and index in ("name", "message", "cause"):
            setattr(box, index, value)
        # `stack`: an own property that a reference may overwrite; this client keeps none.

    def at(self, root: Any, segments: List[str]) -> Tuple[Any, Optional[Callable[[Any], None]]]:
        """Follows a path as superjson does: a Set by position, a Map by row
        then 0 (key) or 1 (value), anything else by own property."""
        value: Any = root
        put: Optional[Callable[[Any], None]] = None
        i = 0
        while i < len(segments):
            o = value
            key = segments[i]
            i += 1
            if isinstance(o, JsMap) and id(o) in self.pending:
                box = self.own(self.pending[id(o)][1], key)
                index = segments[i] if i < len(segments) else None
                i += 1
            elif isinstance(o, JsSet) and id(o) in self.pending:
                box, index = self.pending[id(o)][1], key
            else:
                box, index = o, key
            value = self.own(box, index)
            put = (lambda b, k: (lambda x: self.put(b, k, x)))(box, index)
        return value, put

    def revive(self, annotation: Any, v: Any) -> Any:
        if isinstance(annotation, list):
            kind = annotation[0] if annotation else None
            name = annotation[1] if len(annotation) > 1 else None
            if kind == "custom" and name in ("wirecall.Float32Array", "wirecall.Float64Array"):
                if not isinstance(v, list):
                    return _fail("bad " + name)
                typed = TypedArray(name[len("wirecall."):])
                typed.values = [_to_element(typed.kind, _unspecial(x)) for x in v]
                return typed
            if kind == "typed-array" and name in TYPED_ARRAY_NAMES:
                if not isinstance(v, list):
                    return _fail("bad " + name)
                return TypedArray(name, v)
        elif isinstance(annotation, str):
            if annotation == "Date":
                return _revive_date(v)
            if annotation == "URL":
                if not isinstance(v, str) or not re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", v):
                    return _fail("bad URL")
                return JsURL(v)
            if annotation == "set":
                if not isinstance(v, list):
                    return _fail("bad set")
                made = JsSet()
                self.pending[id(made)] = (made, v)
                return made
            if annotation == "map":
                if not isinstance(v, list) or not all(isinstance(row, (list, dict)) for row in v):
                    return _fail("bad map")
                made_map = JsMap()
                self.pending[id(made_map)] = (made_map, v)
                return made_map
            if annotation == "undefined":
                return UNDEFINED
            if annotation == "bigint":
                return _revive_bigint(v)
            if annotation == "number":
                return _unspecial(v)
            if annotation == "regexp":
                m = re.fullmatch(r"/([^\n\r\u2028\u2029]*)/([^\n\r\u2028\u2029]*)", v) if isinstance(v, str) else None
                if not m:
                    return _fail("bad regexp")
                return JsRegExp(m.group(1), m.group(2))  # invalid flags fail, as new RegExp throws
            if annotation == "Error":
                if not isinstance(v, dict):
                    return _fail("bad Error")
                message = v.get("message", UNDEFINED)
                return JsError(v.get("name", UNDEFINED), "" if message is UNDEFINED else _js_string(message), v.get("cause", UNDEFINED))
        return _fail("unsupported annotation " + json.dumps(annotation))

    def apply(self, v: Any, tree: Any) -> Any:
        """Applies an annotation tree to ``v``: the children first (paths relative to ``v``), then the node's own annotation."""
        node = isinstance(tree, list)
        children = (tree[1] if len(tree) > 1 else None) if node else tree
        if children:
            if not isinstance(children, dict):
                return _fail("bad annotation tree")
            for path, subtree in children.items():
                child, put = self.at(v, _parse_path(path))
                if put is None:
                    return _fail("bad path")
                put(self.apply(child, subtree))
        if node:
            if not tree:
                return UNDEFINED  # an empty node: the reference client reads it as undefined
            return self.revive(tree[0], v)
        return v

    def copy(self, v: Any, depth: int) -> Any:
        if depth > MAX_DECODE_DEPTH:
            return _fail("too deep")
        if isinstance(v, list):
            return [self.copy(x, depth + 1) for x in v]
        if isinstance(v, dict):
            return {k: self.copy(x, depth + 1) for k, x in v.items()}
        return v

    def decode(self, json_value: Any, meta: Any) -> Any:
        if meta is None:
            return _fail("bad meta")
        root = self.copy(json_value, 0)
        values = meta.get("values") if isinstance(meta, dict) else None
        references = meta.get("referentialEqualities") if isinstance(meta, dict) else None
        if values:
            root = self.apply(root, values)
        if references:
            pairs: List[Tuple[List[str], List[str]]] = []
            if isinstance(references, list):
                groups: List[Tuple[Any, Any]] = [(None, references[0] if references else None)]
                extra = references[1] if len(references) > 1 else None
                if extra:
                    if not isinstance(extra, dict):
                        return _fail("bad referentialEqualities")
                    groups += list(extra.items())
            elif isinstance(references, dict):
                groups = list(references.items())
            else:
                return _fail("bad referentialEqualities")
            for path, others in groups:
                if not isinstance(others, list):
                    return _fail("bad referentialEqualities")
                for other in others:
                    pairs.append(([] if path is None else _parse_path(path), _parse_path(other)))
            # Shorter target paths first: a fix inside a value must land in the copy that replaces it.
            pairs.sort(key=lambda pair: len(pair[1]))
            for source, target in pairs:
                _, put = self.at(root, target)
                if put is None:
                    return _fail("bad path")
                put(self.at(root, source)[0])
        for made, items in self.pending.values():
            if isinstance(made, JsMap):
                for row in items:
                    key = _row_item(row, 0)
                    made[key] = _row_item(row, 1)
            else:
                for item in items:
                    made.add(item)
        return root


def _row_item(row: Any, i: int) -> Any:
    if isinstance(row, list):
        return row[i] if i < len(row) else UNDEFINED
    if isinstance(row, dict):
        return row.get(str(i), UNDEFINED)
    return UNDEFINED


def _js_string(v: Any) -> str:
    if isinstance(v, str):
        return v
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def deserialize(json_value: Any, meta: Any = None) -> Any:
    """Decodes ``json`` with superjson ``meta`` (None: the value as it is).
    Raises :class:`EncodingError` on anything it cannot read: an
    annotation it does not know (a registered class, a symbol), a bad path."""
    if meta is None:
        return json_value
    try:
        return _Decoder().decode(json_value, meta)
    except RecursionError:
        raise EncodingError("payload nested too deeply") from None
    except (TypeError, KeyError, IndexError, AttributeError) as error:
        raise EncodingError(f"bad payload: {error}") from None


_ABSENT = object()


def decode_payload(message: Dict[str, Any], field: str) -> Any:
    """The value a message carries in ``field`` (``params``, ``input`` or
    ``data``) plus ``meta``: :data:`UNDEFINED` when both are absent, the
    field as parsed when ``meta`` is absent, else the decoded value."""
    has_value = field in message
    if "meta" not in message:
        return message[field] if has_value else UNDEFINED
    return deserialize(message[field] if has_value else UNDEFINED, message["meta"]) if message["meta"] is not None else _fail("bad meta")


def encode_payload(value: Any, field: str) -> Dict[str, Any]:
    """The fields that carry ``value`` in a message: ``{field: json, "meta": meta}``,
    without ``meta`` for plain JSON, and nothing at all for :data:`UNDEFINED`."""
    if value is UNDEFINED:
        return {}
    json_value, meta = serialize(value)
    fields = {field: json_value}
    if meta is not None:
        fields["meta"] = meta
    return fields
