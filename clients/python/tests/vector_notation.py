"""The value notation of docs/protocol/vectors.json: JSON that describes a
JavaScript value (``{"$type": "date", "iso": ...}``, ``{"$ref": path}``...),
read into this client's Python values and written from them."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Dict, List

import support  # noqa: F401  (puts wirecall_client on sys.path)
from wirecall_client.encoding import (
    NO_CAUSE,
    UNDEFINED,
    BigInt,
    JsDate,
    JsError,
    JsMap,
    JsRegExp,
    JsSet,
    JsURL,
    TypedArray,
    _date_from_ms,
    _date_json,
    _ms_from_iso,
)

SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0": -0.0}


def number_of(n: Any) -> Any:
    if isinstance(n, (int, float)) and not isinstance(n, bool):
        return n
    if isinstance(n, dict) and n.get("$type") == "number" and n.get("value") in SPECIAL:
        return SPECIAL[n["value"]]
    raise ValueError(f"not a number: {n!r}")


def number_notation(n: Any) -> Any:
    if isinstance(n, float):
        if n != n:
            return {"$type": "number", "value": "NaN"}
        if math.isinf(n):
            return {"$type": "number", "value": "Infinity" if n > 0 else "-Infinity"}
        if n == 0 and math.copysign(1, n) < 0:
            return {"$type": "number", "value": "-0"}
    return n


def interpret(notation: Any) -> Any:
    """The Python value a notation describes; a ``$ref`` names a place met before, depth first."""
    made: Dict[str, Any] = {}

    def key(path: List[str]) -> str:
        return "\x00".join(path) + "\x01"

    def go(n: Any, path: List[str]) -> Any:
        if not isinstance(n, (dict, list)):
            return n
        if isinstance(n, list):
            array: List[Any] = []
            made[key(path)] = array
            for i, x in enumerate(n):
                array.append(go(x, path + [str(i)]))
            return array
        if "$ref" in n:
            return made[key(n["$ref"])]
        if "$type" not in n:
            obj: Dict[str, Any] = {}
            made[key(path)] = obj
            for k, x in n.items():
                obj[k] = go(x, path + [k])
            return obj
        kind = n["$type"]
        if kind == "undefined":
            return UNDEFINED
        if kind == "number":
            return number_of(n)
        if kind == "bigint":
            return BigInt(int(n["value"]))
        if kind == "date":
            value: Any = JsDate(None) if n.get("invalid") is True else _date_from_ms(_ms_from_iso(n["iso"]))
        elif kind == "regexp":
            value = JsRegExp(n["source"], n["flags"])
        elif kind == "url":
            value = JsURL(n["href"])
        elif kind == "error":
            error = JsError(n["name"], n["message"])
            made[key(path)] = error
            if "cause" in n:
                error.cause = go(n["cause"], path + ["cause"])
            return error
        elif kind == "typed-array":
            value = TypedArray(n["name"], [number_of(x) for x in n["values"]])
        elif kind == "set":
            made_set = JsSet()
            made[key(path)] = made_set
            for i, x in enumerate(n["values"]):
                made_set.add(go(x, path + [str(i)]))
            return made_set
        elif kind == "map":
            made_map = JsMap()
            made[key(path)] = made_map
            for i, (k, x) in enumerate(n["entries"]):
                map_key = go(k, path + [str(i), "0"])
                made_map[map_key] = go(x, path + [str(i), "1"])
            return made_map
        elif kind == "object":
            obj = {}
            made[key(path)] = obj
            for k, x in n["entries"]:
                obj[k] = go(x, path + [k])
            return obj
        else:
            raise ValueError(f"unknown $type {kind}")
        made[key(path)] = value
        return value

    return go(notation, [])


def notation_of(value: Any) -> Any:
    """The notation of a decoded value: structure, order, -0 and NaN, and
    identity (an object met again, depth first, is a ``$ref`` to where it
    was met first)."""
    seen: Dict[int, List[str]] = {}

    def go(v: Any, path: List[str]) -> Any:
        if isinstance(v, BigInt):
            return {"$type": "bigint", "value": str(int(v))}
        if v is UNDEFINED:
            return {"$type": "undefined"}
        if v is None or isinstance(v, bool) or type(v) is str:
            return v
        if isinstance(v, (int, float)):
            return number_notation(v)
        if id(v) in seen:
            return {"$ref": seen[id(v)]}
        seen[id(v)] = path
        if isinstance(v, JsDate):
            return {"$type": "date", "invalid": True} if v.ms is None else {"$type": "date", "iso": v.iso()}
        if isinstance(v, dt.datetime):
            return {"$type": "date", "iso": _date_json(v)}
        if isinstance(v, JsRegExp):
            return {"$type": "regexp", "source": v.source, "flags": v.flags}
        if isinstance(v, JsURL):
            return {"$type": "url", "href": str(v)}
        if isinstance(v, JsError):
            out = {"$type": "error", "name": v.name, "message": v.message}
            if v.cause is not UNDEFINED and v.cause is not NO_CAUSE:
                out["cause"] = go(v.cause, path + ["cause"])
            return out
        if isinstance(v, TypedArray):
            return {"$type": "typed-array", "name": v.kind, "values": [number_notation(x) for x in v.values]}
        if isinstance(v, JsSet):
            return {"$type": "set", "values": [go(x, path + [str(i)]) for i, x in enumerate(v)]}
        if isinstance(v, JsMap):
            return {"$type": "map", "entries": [[go(k, path + [str(i), "0"]), go(x, path + [str(i), "1"])] for i, (k, x) in enumerate(v.items())]}
        if isinstance(v, list):
            return [go(x, path + [str(i)]) for i, x in enumerate(v)]
        if isinstance(v, dict):
            if "$type" in v or "$ref" in v:
                return {"$type": "object", "entries": [[k, go(x, path + [k])] for k, x in v.items()]}
            return {k: go(x, path + [k]) for k, x in v.items()}
        raise TypeError(f"no notation for {v!r}")

    return go(value, [])


def strictly_equal(a: Any, b: Any) -> bool:
    """Deep equality as JSON: booleans are not numbers, 1 equals 1.0, object key order does not matter."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(strictly_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(strictly_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b
