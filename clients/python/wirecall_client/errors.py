"""Errors (docs/errors.md) and what each close code means (docs/protocol.md,
"Close codes"; docs/errors.md, "When the connection closes")."""

from __future__ import annotations

from typing import Any, Dict, NamedTuple

from .encoding import UNDEFINED

__all__ = ["RpcError", "ERROR_CODES", "RETRYABLE_CODES", "CloseMeaning", "close_meaning", "close_error"]

#: Every code a server may send (docs/protocol.md, "Error codes").
ERROR_CODES = (
    "BAD_REQUEST",
    "UNAUTHORIZED",
    "FORBIDDEN",
    "NOT_FOUND",
    "METHOD_NOT_SUPPORTED",
    "TIMEOUT",
    "CONFLICT",
    "PRECONDITION_FAILED",
    "PAYLOAD_TOO_LARGE",
    "UNPROCESSABLE_CONTENT",
    "TOO_MANY_REQUESTS",
    "CANCELLED",
    "INTERNAL",
    "NOT_IMPLEMENTED",
    "OVERLOADED",
    "CONNECTION_LOST",
)

#: Codes whose condition may pass (docs/errors.md, "Decide whether to retry").
RETRYABLE_CODES = frozenset({"TIMEOUT", "TOO_MANY_REQUESTS", "OVERLOADED", "CONNECTION_LOST"})


class RpcError(Exception):
    """The failure of a call, a subscription or the connection: a ``code``
    from :data:`ERROR_CODES`, a ``message`` for people, and ``data``
    (decoded, :data:`UNDEFINED` when the server sent none)."""

    def __init__(self, code: str, message: str | None = None, data: Any = UNDEFINED) -> None:
        if code not in ERROR_CODES:
            # A client that receives an unknown code treats it as INTERNAL and keeps the message.
            code = "INTERNAL"
        self.code = code
        self.message = code if message is None else message
        self.data = data
        super().__init__(self.message)

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE_CODES

    def __repr__(self) -> str:
        data = "" if self.data is UNDEFINED else f", data={self.data!r}"
        return f"RpcError({self.code!r}, {self.message!r}{data})"

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class CloseMeaning(NamedTuple):
    """What a close code means: the error code it gives, and whether the client stops."""

    code: str
    terminal: bool


_CLOSE_CODES: Dict[int, CloseMeaning] = {
    1000: CloseMeaning("CONNECTION_LOST", True),
    1001: CloseMeaning("CONNECTION_LOST", False),
    1002: CloseMeaning("BAD_REQUEST", True),
    1003: CloseMeaning("BAD_REQUEST", True),
    1007: CloseMeaning("BAD_REQUEST", True),
    1008: CloseMeaning("FORBIDDEN", True),
    1009: CloseMeaning("PAYLOAD_TOO_LARGE", False),
    1010: CloseMeaning("BAD_REQUEST", True),
    1011: CloseMeaning("CONNECTION_LOST", False),
    1012: CloseMeaning("CONNECTION_LOST", False),
    1013: CloseMeaning("OVERLOADED", False),
    4400: CloseMeaning("BAD_REQUEST", True),
    4401: CloseMeaning("UNAUTHORIZED", True),
    4403: CloseMeaning("FORBIDDEN", True),
    4408: CloseMeaning("TIMEOUT", False),
    4413: CloseMeaning("PAYLOAD_TOO_LARGE", True),
    4429: CloseMeaning("TOO_MANY_REQUESTS", False),
}


def close_meaning(code: int) -> CloseMeaning:
    """The error code and band of any close code: the table of docs/errors.md;
    any other code from 4400 to 4499 is a terminal BAD_REQUEST, anything else
    (1006 included) a retryable CONNECTION_LOST."""
    if code in _CLOSE_CODES:
        return _CLOSE_CODES[code]
    if 4400 <= code <= 4499:
        return CloseMeaning("BAD_REQUEST", True)
    return CloseMeaning("CONNECTION_LOST", False)


def close_error(code: int, reason: str = "", error_code: str | None = None, suffix: str = "") -> RpcError:
    """The error derived from a close: ``connection closed (<code>): <reason>``
    (no ``: <reason>`` without a reason), with ``data`` ``{closeCode, closeReason}``."""
    message = f"connection closed ({code})" + (f": {reason}" if reason else "") + suffix
    return RpcError(error_code or close_meaning(code).code, message, {"closeCode": code, "closeReason": reason})
