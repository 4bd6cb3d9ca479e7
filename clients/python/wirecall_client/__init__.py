"""wirecall_client: a reference client for the wirecall.v1 protocol
(docs/protocol.md), in Python 3 with asyncio and `websockets`."""

from .client import Client, KeepAliveOptions, ReconnectOptions, Subscription, SubscriptionEvent, backoff_delay_ms
from .encoding import (
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
    Undefined,
    deserialize,
    serialize,
)
from .errors import ERROR_CODES, CloseMeaning, RpcError, close_error, close_meaning
from .frames import SUBPROTOCOL, FrameError, parse_client_frame, parse_server_frame
from .raw import HandshakeRefused, RawConnection

__all__ = [
    "Client",
    "KeepAliveOptions",
    "ReconnectOptions",
    "Subscription",
    "SubscriptionEvent",
    "backoff_delay_ms",
    "UNDEFINED",
    "Undefined",
    "BigInt",
    "EncodingError",
    "JsDate",
    "JsError",
    "JsMap",
    "JsRegExp",
    "JsSet",
    "JsURL",
    "TypedArray",
    "deserialize",
    "serialize",
    "ERROR_CODES",
    "CloseMeaning",
    "RpcError",
    "close_error",
    "close_meaning",
    "SUBPROTOCOL",
    "FrameError",
    "parse_client_frame",
    "parse_server_frame",
    "HandshakeRefused",
    "RawConnection",
]
