"""The client: one WebSocket connection carrying many calls and
subscriptions, restored by itself after a drop (docs/protocol.md,
docs/reconnect.md)."""

from __future__ import annotations

import asyncio
import inspect
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatusCode

from .encoding import UNDEFINED, EncodingError, decode_payload, encode_payload
from .errors import RpcError, close_error, close_meaning
from .frames import SOCKET_OPTIONS, SUBPROTOCOL, FrameError, dumps, parse_server_frame, utf16_length

__all__ = ["Client", "ReconnectOptions", "KeepAliveOptions", "Subscription", "SubscriptionEvent", "backoff_delay_ms"]

# Batches are flushed early at this many messages or characters of JSON (docs/protocol.md, "Frames").
BATCH_MAX_MESSAGES = 1000
BATCH_MAX_CHARS = 65_536
#: The batch bound before `ack`, or from a server that announces no `maxPayload`.
BATCH_CHARS_BEFORE_ACK = 16_384
#: A `for await` loop that falls this many events behind ends with OVERLOADED.
MAX_SUBSCRIPTION_BACKLOG = 1000


@dataclass
class ReconnectOptions:
    """Backoff with full jitter (docs/reconnect.md, "Reconnecting")."""

    min_delay_ms: float = 500
    max_delay_ms: float = 30_000
    factor: float = 2
    max_retries: float = float("inf")
    stable_after_ms: float = 10_000


@dataclass
class KeepAliveOptions:
    """Application-level pings (docs/protocol.md, "Ping and pong")."""

    interval_ms: float = 20_000
    timeout_ms: float = 10_000


def backoff_delay_ms(failures: int, options: ReconnectOptions) -> float:
    """A random wait between 0 and ``min(max_delay_ms, min_delay_ms * factor**failures)``."""
    ceiling = min(options.max_delay_ms, options.min_delay_ms * options.factor ** min(failures, 64))
    return random.uniform(0, ceiling)


@dataclass
class SubscriptionEvent:
    """One item of a subscription's iterator: ``kind`` is ``"started"``
    (``event_id``: the stream's position, when the server gives one),
    ``"data"`` (``data``, and ``event_id`` when the event is tracked) or
    ``"resync"`` (the server could not replay what was missed: reload)."""

    kind: str
    data: Any = UNDEFINED
    event_id: Optional[str] = None


_COMPLETE = object()


class Subscription:
    """A live subscription, as an async iterator of :class:`SubscriptionEvent`.
    ``complete`` ends the iteration; an ``error`` raises :class:`RpcError`.
    It survives reconnects: it is sent again with its ``last_event_id``."""

    def __init__(self, client: "Client", sub_id: int, path: str, fields: Dict[str, Any], last_event_id: Optional[str]) -> None:
        self._client = client
        self.id = sub_id
        self.path = path
        self._fields = fields
        #: The ``eventId`` of the last event received (or of ``started``), sent back when resubscribing.
        self.last_event_id = last_event_id
        self._queue: "asyncio.Queue[Any]" = asyncio.Queue()
        self._ended = False
        self._backlog = 0
        #: The connection this subscription was last written on (None: waits to be sent).
        self._written_on: Optional[_Connection] = None
        #: Sent on some connection before: sending it again is a resubscription.
        self._ever_written = False

    @property
    def active(self) -> bool:
        return not self._ended

    def _message(self) -> Dict[str, Any]:
        message: Dict[str, Any] = {"type": "subscribe", "id": self.id, "path": self.path, **self._fields}
        if self.last_event_id is not None:
            message["lastEventId"] = self.last_event_id
        return message

    def _push(self, item: Any) -> None:
        if self._ended:
            return
        if isinstance(item, SubscriptionEvent):
            self._backlog += 1
            if self._backlog > MAX_SUBSCRIPTION_BACKLOG:
                self._client._unsubscribe(self, RpcError("OVERLOADED", f"the loop fell more than {MAX_SUBSCRIPTION_BACKLOG} events behind"))
                return
        self._queue.put_nowait(item)

    def _end(self, outcome: Any) -> None:
        """Ends the iterator: with _COMPLETE, an RpcError, or None (unsubscribed: ends quietly)."""
        if self._ended:
            return
        self._ended = True
        self._queue.put_nowait(_COMPLETE if outcome is None else outcome)

    def __aiter__(self) -> "Subscription":
        return self

    async def __anext__(self) -> SubscriptionEvent:
        if self._ended and self._queue.empty():
            raise StopAsyncIteration
        item = await self._queue.get()
        if isinstance(item, SubscriptionEvent):
            self._backlog -= 1
            return item
        # Keep the terminal outcome for any later __anext__.
        self._queue.put_nowait(item)
        if isinstance(item, RpcError):
            raise item
        raise StopAsyncIteration

    async def next(self, timeout: Optional[float] = None) -> SubscriptionEvent:
        """The next event, waiting at most ``timeout`` seconds (asyncio.TimeoutError past it)."""
        return await asyncio.wait_for(self.__anext__(), timeout)

    def unsubscribe(self) -> None:
        """Stops the subscription: ``unsubscribe`` is sent, and nothing more
        is delivered (the iterator ends)."""
        self._client._unsubscribe(self, None)

    async def __aenter__(self) -> "Subscription":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.unsubscribe()


class _Call:
    __slots__ = ("id", "method", "path", "message", "key", "future", "written_on", "size", "timer")

    def __init__(self, call_id: int, method: str, path: str, message: Dict[str, Any], key: Optional[str], future: "asyncio.Future[Any]", size: int) -> None:
        self.id = call_id
        self.method = method
        self.path = path
        self.message = message
        self.key = key
        self.future = future
        self.written_on: Optional[_Connection] = None
        self.size = size
        self.timer: Optional[asyncio.TimerHandle] = None

    @property
    def resendable(self) -> bool:
        return self.method == "query" or self.key is not None


class _Connection:
    """One socket, from open to close."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.acked = False
        self.open = True
        self.max_payload: Optional[int] = None
        self.restart_delay_ms: Optional[int] = None
        self.outbox: List[str] = []
        self.flush_scheduled = False
        self.writes: "asyncio.Queue[Optional[str]]" = asyncio.Queue()
        self.local_close: Optional[Tuple[int, str]] = None
        self.last_rx = time.monotonic()
        self.ping_sent_at: Optional[float] = None
        self.last_written: Any = None
        self.opened_at: Optional[float] = None


class Client:
    """A wirecall client.

    ``params`` are the connection parameters: a value, or a function (sync or
    async) called before every connect. ``timeout_ms`` is every call's
    default time limit (None: none). ``reconnect`` is a
    :class:`ReconnectOptions`, or False to stop at the first drop.
    ``keep_alive`` is a :class:`KeepAliveOptions`, or False.

    Use it as ``async with Client(url) as client:``, or call :meth:`start`
    and :meth:`close`. Calls made before the connection is open wait for it.
    """

    def __init__(
        self,
        url: str,
        *,
        params: Any = UNDEFINED,
        timeout_ms: Optional[float] = 30_000,
        reconnect: Union[ReconnectOptions, bool] = True,
        keep_alive: Union[KeepAliveOptions, bool] = True,
        connect_timeout_ms: float = 10_000,
        max_queued_calls: int = 10_000,
        max_queued_bytes: int = 4_194_304,
    ) -> None:
        self.url = url
        self._params = params
        self.timeout_ms = timeout_ms
        self.reconnect: Optional[ReconnectOptions] = ReconnectOptions() if reconnect is True else (reconnect or None)
        self.keep_alive: Optional[KeepAliveOptions] = KeepAliveOptions() if keep_alive is True else (keep_alive or None)
        self.connect_timeout_ms = connect_timeout_ms
        self.max_queued_calls = max_queued_calls
        self.max_queued_bytes = max_queued_bytes
        #: ``idle``, ``connecting``, ``open``, ``reconnecting`` or ``closed``.
        self.state = "idle"
        #: The RpcError that ended the client, once ``closed``.
        self.error: Optional[RpcError] = None
        #: Round-trip time of the last answered keep-alive ping, in milliseconds.
        self.rtt_ms: Optional[float] = None
        self._next_id = 1
        self._calls: Dict[int, _Call] = {}
        self._subs: Dict[int, Subscription] = {}
        self._reinits: Dict[int, Tuple["asyncio.Future[None]", Any, Optional[_Connection]]] = {}
        self._conn: Optional[_Connection] = None
        self._task: Optional["asyncio.Task[None]"] = None
        self._wake = asyncio.Event()
        self._listeners: Dict[str, List[Callable[[Any], Any]]] = {}
        self._opened = asyncio.Event()
        #: Frames and messages sent and received, over all connections.
        self.stats = {"frames_sent": 0, "messages_sent": 0, "frames_received": 0, "messages_received": 0}

    # ---- lifecycle --------------------------------------------------------------

    def start(self) -> None:
        """Starts connecting (once)."""
        if self._task is None and self.state != "closed":
            self._set_state("connecting")
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def __aenter__(self) -> "Client":
        self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def wait_open(self, timeout: Optional[float] = None) -> None:
        """Waits until the connection is open (acknowledged); raises the
        client's error if it closes instead."""

        async def wait() -> None:
            while self.state != "open":
                if self.state == "closed":
                    raise self.error or RpcError("CANCELLED", "The client was closed")
                self._opened.clear()
                await self._opened.wait()

        await asyncio.wait_for(wait(), timeout)

    async def close(self) -> None:
        """Closes the client for good: pending calls and subscriptions end
        with CANCELLED, the socket closes with 1000 (waiting one second at most)."""
        if self.state == "closed":
            return
        self._terminate(RpcError("CANCELLED", "The client was closed"), by_user=True)
        conn = self._conn
        if conn is not None and conn.open:
            conn.local_close = (1000, "client closed")
            try:
                await asyncio.wait_for(conn.ws.close(1000, "client closed"), 1)
            except Exception:
                conn.ws.transport.abort()
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
            try:
                await asyncio.wait_for(asyncio.gather(self._task, return_exceptions=True), 1)
            except asyncio.TimeoutError:
                pass

    # ---- events -----------------------------------------------------------------

    def on(self, event: str, fn: Callable[[Any], Any]) -> Callable[[], None]:
        """Calls ``fn(payload)`` on ``state``, ``close``, ``reconnect``,
        ``resubscribe``, ``resync``, ``pong`` or ``restart``; returns a
        function that removes the listener."""
        self._listeners.setdefault(event, []).append(fn)

        def remove() -> None:
            listeners = self._listeners.get(event, [])
            if fn in listeners:
                listeners.remove(fn)

        return remove

    def _emit(self, event: str, payload: Any) -> None:
        for fn in list(self._listeners.get(event, [])):
            try:
                fn(payload)
            except Exception:  # a listener cannot break the client
                asyncio.get_running_loop().call_soon(_reraise, event)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self._opened.set()
            self._emit("state", state)

    # ---- calls ------------------------------------------------------------------

    async def query(self, path: str, input: Any = UNDEFINED, **options: Any) -> Any:
        """Runs a query; see :meth:`call` for the options."""
        return await self.call("query", path, input, **options)

    async def mutate(self, path: str, input: Any = UNDEFINED, **options: Any) -> Any:
        """Runs a mutation; see :meth:`call` for the options."""
        return await self.call("mutation", path, input, **options)

    async def call(
        self,
        method: str,
        path: str,
        input: Any = UNDEFINED,
        *,
        timeout_ms: Optional[float] = ...,  # type: ignore[assignment]
        abort: Optional[asyncio.Event] = None,
        idempotent: bool = False,
        idempotency_key: Optional[str] = None,
    ) -> Any:
        """Runs a call and returns its decoded result, or raises :class:`RpcError`.

        - ``timeout_ms``: this call's time limit (default: the client's),
          counted from now across reconnects: TIMEOUT past it.
        - ``abort``: an ``asyncio.Event`` that cancels the call when set
          (CANCELLED). Cancelling the awaiting task cancels it too (the
          task gets ``asyncio.CancelledError``). Either way, a call already
          sent is cancelled on the server (``cancel``).
        - ``idempotent`` / ``idempotency_key`` (mutations): the call carries
          an idempotency key (a random UUID, or yours), and is sent again
          after a reconnect instead of failing with CONNECTION_LOST.
        """
        if self.state == "closed":
            raise self.error or RpcError("CANCELLED", "The client was closed")
        if self._task is None:
            self.start()
        if abort is not None and abort.is_set():
            raise RpcError("CANCELLED", "The call was aborted")
        try:
            fields = encode_payload(input, "input")
        except EncodingError as error:
            raise RpcError("BAD_REQUEST", "The input could not be serialized") from error
        call_id = self._take_id()
        message: Dict[str, Any] = {"type": "call", "id": call_id, "method": method, "path": path, **fields}
        key = None
        if method == "mutation" and (idempotent or idempotency_key is not None):
            key = idempotency_key if idempotency_key is not None else str(uuid.uuid4())
            message["idempotencyKey"] = key
        text = dumps(message)
        size = len(text.encode("utf-8", "surrogatepass"))
        conn = self._conn
        if conn is not None and conn.acked and conn.max_payload is not None and size > conn.max_payload:
            raise RpcError("PAYLOAD_TOO_LARGE", f"the call is {size} bytes; the server accepts at most {conn.max_payload}", {"maxPayload": conn.max_payload})
        if not (conn is not None and conn.acked and conn.open):
            queued = [c for c in self._calls.values() if c.written_on is None]
            if len(queued) >= self.max_queued_calls or sum(c.size for c in queued) + size > self.max_queued_bytes:
                raise RpcError(
                    "OVERLOADED",
                    f"{len(queued)} calls ({sum(c.size for c in queued)} bytes) are already waiting for a connection",
                    {"maxCalls": self.max_queued_calls, "maxBytes": self.max_queued_bytes},
                )
        loop = asyncio.get_running_loop()
        call = _Call(call_id, method, path, message, key, loop.create_future(), size)
        self._calls[call_id] = call
        limit = self.timeout_ms if timeout_ms is ... else timeout_ms
        if limit is not None and limit != float("inf"):
            call.timer = loop.call_later(max(0.0, limit) / 1000, self._time_out, call, limit)
        waiter = None
        if abort is not None:
            waiter = loop.create_task(abort.wait())
            waiter.add_done_callback(lambda t: None if t.cancelled() else self._give_up(call, RpcError("CANCELLED", "The call was aborted")))
        if conn is not None and conn.acked and conn.open:
            self._write_call(conn, call)
        try:
            return await call.future
        except asyncio.CancelledError:
            if not call.future.done() or call.future.cancelled():
                self._give_up(call, None)
            raise
        finally:
            if call.timer is not None:
                call.timer.cancel()
            if waiter is not None:
                waiter.cancel()

    def _take_id(self) -> int:
        call_id = self._next_id
        self._next_id += 1
        return call_id

    def _time_out(self, call: _Call, limit: float) -> None:
        shown = int(limit) if float(limit).is_integer() else limit
        self._give_up(call, RpcError("TIMEOUT", f'"{call.path}" timed out after {shown} ms'))

    def _give_up(self, call: _Call, error: Optional[RpcError]) -> None:
        """Stops waiting for a call: rejects it (unless the caller's task was
        cancelled) and tells the server, when it was sent on this connection."""
        if self._calls.pop(call.id, None) is None:
            return
        conn = self._conn
        if call.written_on is not None and call.written_on is conn and conn is not None and conn.open:
            self._send(conn, {"type": "cancel", "id": call.id})
        if error is not None and not call.future.done():
            call.future.set_exception(error)

    def _write_call(self, conn: _Connection, call: _Call) -> None:
        call.written_on = conn
        conn.last_written = call
        self._send(conn, call.message)

    # ---- subscriptions ----------------------------------------------------------

    def subscribe(self, path: str, input: Any = UNDEFINED, *, last_event_id: Optional[str] = None) -> Subscription:
        """Starts a subscription; iterate it with ``async for`` (see :class:`Subscription`)."""
        if self.state == "closed":
            raise self.error or RpcError("CANCELLED", "The client was closed")
        if self._task is None:
            self.start()
        try:
            fields = encode_payload(input, "input")
        except EncodingError as error:
            raise RpcError("BAD_REQUEST", "The input could not be serialized") from error
        sub = Subscription(self, self._take_id(), path, fields, last_event_id)
        self._subs[sub.id] = sub
        conn = self._conn
        if conn is not None and conn.acked and conn.open:
            self._write_subscription(conn, sub)
        return sub

    def _write_subscription(self, conn: _Connection, sub: Subscription) -> None:
        sub._written_on = conn
        sub._ever_written = True
        conn.last_written = sub
        self._send(conn, sub._message())

    def _unsubscribe(self, sub: Subscription, error: Optional[RpcError]) -> None:
        if self._subs.pop(sub.id, None) is None:
            return
        conn = self._conn
        if sub._written_on is conn and conn is not None and conn.open:
            self._send(conn, {"type": "unsubscribe", "id": sub.id})
        sub._end(error)

    # ---- connection params ------------------------------------------------------

    async def update_params(self, params: Any = ...) -> None:  # type: ignore[assignment]
        """Sends new connection parameters over the open connection
        (``reinit``): returns once the server accepted them, raises its
        RpcError if it refused them (the previous context stays). Without an
        argument, a ``params`` function is evaluated again. When not
        connected, returns at once, and the next connect sends them."""
        if self.state == "closed":
            raise self.error or RpcError("CANCELLED", "The client was closed")
        value = await self._evaluate_params() if params is ... else params
        conn = self._conn
        if conn is None or not conn.acked or not conn.open:
            if params is not ... and not callable(self._params):
                self._params = params
            return
        try:
            fields = encode_payload(value, "params")
        except EncodingError as error:
            raise RpcError("BAD_REQUEST", "The params could not be serialized") from error
        reinit_id = self._take_id()
        future: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()
        self._reinits[reinit_id] = (future, params, conn)
        self._send(conn, {"type": "reinit", "id": reinit_id, **fields})
        try:
            await future
        finally:
            self._reinits.pop(reinit_id, None)

    async def _evaluate_params(self) -> Any:
        params = self._params
        if callable(params):
            params = params()
            if inspect.isawaitable(params):
                params = await params
        return params

    # ---- writing ----------------------------------------------------------------

    def _send(self, conn: _Connection, message: Dict[str, Any]) -> None:
        """Queues a message; the messages of one turn of the event loop leave as one batch."""
        if not conn.open:
            return
        conn.outbox.append(dumps(message))
        if not conn.flush_scheduled:
            conn.flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush, conn)

    def _flush(self, conn: _Connection) -> None:
        conn.flush_scheduled = False
        texts, conn.outbox = conn.outbox, []
        if not conn.open or not texts:
            return
        limit = BATCH_CHARS_BEFORE_ACK if conn.max_payload is None else min(BATCH_MAX_CHARS, conn.max_payload // 3)
        batch: List[str] = []
        length = 1

        def emit() -> None:
            if batch:
                conn.writes.put_nowait(batch[0] if len(batch) == 1 else "[" + ",".join(batch) + "]")
                self.stats["frames_sent"] += 1
                self.stats["messages_sent"] += len(batch)

        for text in texts:
            size = utf16_length(text)
            if batch and (len(batch) >= BATCH_MAX_MESSAGES or length + size + 1 > limit):
                emit()
                batch, length = [], 1
            batch.append(text)
            length += size + 1
        emit()

    async def _writer(self, conn: _Connection) -> None:
        while True:
            text = await conn.writes.get()
            if text is None:
                return
            try:
                await conn.ws.send(text)
            except ConnectionClosed:
                return

    # ---- the connection loop ----------------------------------------------------

    async def _run(self) -> None:
        failures = 0  # consecutive failures, for the backoff
        failed_attempts = 0  # consecutive attempts that got no ack, for max_retries
        while self.state != "closed":
            outcome = await self._connect_once()
            if self.state == "closed":
                return
            code, reason, conn, fatal = outcome
            if fatal is not None:
                self._terminate(fatal)
                return
            meaning = close_meaning(code)
            error = close_error(code, reason)
            if meaning.terminal:
                self._terminate(error, close_event=(code, reason))
                return
            acked = conn is not None and conn.opened_at is not None
            if conn is not None:
                self._settle_after_drop(conn, code, reason)
            if self.reconnect is None:
                self._terminate(error, close_event=(code, reason))
                return
            if acked:
                failed_attempts = 0
                if conn is not None and conn.opened_at is not None and time.monotonic() - conn.opened_at >= self.reconnect.stable_after_ms / 1000:
                    failures = 0
            else:
                failed_attempts += 1
                if failed_attempts >= self.reconnect.max_retries:
                    self._terminate(
                        RpcError("CONNECTION_LOST", f"gave up reconnecting: {error.message}", error.data),
                        close_event=(code, reason),
                    )
                    return
            attempt = failures + 1
            if conn is not None and conn.restart_delay_ms is not None and code == 1012:
                # The server announced a restart: come back when it said, not on the backoff schedule.
                delay_ms = float(conn.restart_delay_ms)
            else:
                delay_ms = backoff_delay_ms(failures, self.reconnect)
                failures += 1
            self._set_state("reconnecting")
            self._emit("reconnect", {"attempt": attempt, "delayMs": delay_ms})
            self._emit("close", {"code": code, "reason": reason})
            await asyncio.sleep(delay_ms / 1000)

    def _settle_after_drop(self, conn: _Connection, code: int, reason: str) -> None:
        """After a retryable close: mutations in doubt fail, the rest waits to be sent again."""
        last = conn.last_written
        for call in list(self._calls.values()):
            if call.written_on is not conn:
                continue
            if code == 1009 and call is last:
                self._calls.pop(call.id, None)
                if not call.future.done():
                    call.future.set_exception(close_error(code, reason, "PAYLOAD_TOO_LARGE"))
                continue
            if not call.resendable:
                self._calls.pop(call.id, None)
                if not call.future.done():
                    call.future.set_exception(close_error(code, reason, "CONNECTION_LOST", "; the mutation may or may not have run"))
                continue
            call.written_on = None
        for sub in list(self._subs.values()):
            if code == 1009 and sub is last:
                self._subs.pop(sub.id, None)
                sub._end(close_error(code, reason, "PAYLOAD_TOO_LARGE"))
                continue
            sub._written_on = None
        for reinit_id, (future, params, on) in list(self._reinits.items()):
            if on is conn:
                # The next connect sends these params anyway.
                if params is not ... and not callable(self._params):
                    self._params = params
                if not future.done():
                    future.set_result(None)

    def _terminate(self, error: RpcError, close_event: Optional[Tuple[int, str]] = None, by_user: bool = False) -> None:
        """Ends the client: everything pending and every later call fails with ``error``."""
        if self.state == "closed":
            return
        self.error = error
        calls, self._calls = list(self._calls.values()), {}
        for call in calls:
            if not call.future.done():
                call.future.set_exception(error)
        subs, self._subs = list(self._subs.values()), {}
        for sub in subs:
            sub._end(error)
        for future, _, _ in list(self._reinits.values()):
            if not future.done():
                future.set_exception(error)
        self._set_state("closed")
        if close_event is not None:
            self._emit("close", {"code": close_event[0], "reason": close_event[1]})
        if by_user:
            self._listeners.clear()

    async def _connect_once(self) -> Tuple[int, str, Optional[_Connection], Optional[RpcError]]:
        """One connection attempt, and the connection until it closes: its
        close code and reason, the connection, and an error that ends the
        client whatever the code (params that cannot be sent)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.connect_timeout_ms / 1000
        try:
            params = await self._evaluate_params()
        except RpcError as error:
            if error.code in ("UNAUTHORIZED", "FORBIDDEN"):
                return 1000, "", None, error
            return 1006, str(error.message), None, None
        except Exception as error:  # a failed attempt, retried
            return 1006, str(error), None, None
        try:
            init = {"type": "init", **encode_payload(params, "params")}
        except EncodingError as error:
            # Retrying would fail the same way: the client ends (docs/errors.md, "Errors the client raises itself").
            return 1000, "", None, RpcError("CONNECTION_LOST", f"the connection params could not be serialized: {error}")
        try:
            ws = await asyncio.wait_for(
                websockets.connect(
                    self.url,
                    subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
                    **SOCKET_OPTIONS,
                ),
                max(0.001, deadline - loop.time()),
            )
        except (OSError, InvalidHandshake, asyncio.TimeoutError, EOFError) as error:
            # A refused upgrade (HTTP 400, 404, 503) and a network error both read as 1006, as in a browser.
            status = f"HTTP {error.status_code}" if isinstance(error, InvalidStatusCode) else type(error).__name__
            return 1006, status, None, None
        conn = _Connection(ws)
        self._conn = conn
        writer = loop.create_task(self._writer(conn))
        keep_alive: Optional["asyncio.Task[None]"] = None
        connect_timer = loop.call_later(max(0.0, deadline - loop.time()), self._abandon, conn)
        try:
            if ws.subprotocol != SUBPROTOCOL:
                self._protocol_error(conn, "subprotocol wirecall.v1 required")
            else:
                self._send(conn, init)
            while True:
                try:
                    text = await ws.recv()
                except ConnectionClosed as closed:
                    conn.open = False
                    if conn.local_close is not None:
                        code, reason = conn.local_close
                    elif closed.rcvd is not None:
                        code, reason = closed.rcvd.code, closed.rcvd.reason
                    else:
                        code, reason = 1006, ""
                    return code, reason, conn, None
                conn.last_rx = time.monotonic()
                if conn.local_close is not None:
                    continue
                try:
                    messages = parse_server_frame(text)
                except FrameError as error:
                    self._protocol_error(conn, str(error))
                    continue
                self.stats["frames_received"] += 1
                self.stats["messages_received"] += len(messages)
                for message in messages:
                    if not conn.acked:
                        kind = message["type"]
                        if kind == "ack":
                            connect_timer.cancel()
                            self._on_ack(conn, message)
                            if self.keep_alive is not None:
                                keep_alive = loop.create_task(self._keep_alive(conn, self.keep_alive))
                        elif kind == "ping":
                            self._send(conn, {"type": "pong"})
                        elif kind != "pong":
                            self._protocol_error(conn, f"{kind} before ack")
                            break
                    else:
                        self._dispatch(conn, message)
                    if conn.local_close is not None or self.state == "closed":
                        break
        finally:
            conn.open = False
            connect_timer.cancel()
            if keep_alive is not None:
                keep_alive.cancel()
            conn.writes.put_nowait(None)
            if not writer.done():
                writer.cancel()
            if conn.local_close is None and ws.transport is not None and not ws.transport.is_closing():
                ws.transport.abort()

    def _abandon(self, conn: _Connection) -> None:
        """Drops a socket without a closing handshake: the client then sees 1006."""
        if conn.ws.transport is not None:
            conn.ws.transport.abort()

    def _protocol_error(self, conn: _Connection, reason: str) -> None:
        """The server broke the protocol: close with 4400 and stop."""
        if conn.local_close is not None:
            return
        conn.local_close = (4400, reason[:120])
        conn.outbox.clear()
        loop = asyncio.get_running_loop()

        async def close() -> None:
            try:
                await asyncio.wait_for(conn.ws.close(4400, reason[:120]), 1)
            except Exception:
                self._abandon(conn)

        loop.create_task(close())

    def _on_ack(self, conn: _Connection, message: Dict[str, Any]) -> None:
        conn.acked = True
        conn.opened_at = time.monotonic()
        conn.max_payload = message.get("maxPayload")
        resubscribed = []
        for sub in sorted(self._subs.values(), key=lambda s: s.id):
            if sub._ever_written:
                resubscribed.append(sub)
            self._write_subscription(conn, sub)
        for call in sorted(self._calls.values(), key=lambda c: c.id):
            if call.written_on is None:
                self._write_call(conn, call)
        self._set_state("open")
        for sub in resubscribed:
            self._emit("resubscribe", {"path": sub.path, "lastEventId": sub.last_event_id})

    async def _keep_alive(self, conn: _Connection, options: KeepAliveOptions) -> None:
        interval = options.interval_ms / 1000
        timeout = options.timeout_ms / 1000
        while conn.open:
            idle = time.monotonic() - conn.last_rx
            if idle < interval:
                await asyncio.sleep(interval - idle)
                continue
            sent_at = time.monotonic()
            conn.ping_sent_at = sent_at
            self._send(conn, {"type": "ping"})
            await asyncio.sleep(timeout)
            if conn.last_rx < sent_at:
                self._abandon(conn)
                return

    # ---- receiving --------------------------------------------------------------

    def _dispatch(self, conn: _Connection, message: Dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "ping":
            self._send(conn, {"type": "pong"})
            return
        if kind == "pong":
            if conn.ping_sent_at is not None:
                self.rtt_ms = (time.monotonic() - conn.ping_sent_at) * 1000
                conn.ping_sent_at = None
                self._emit("pong", {"rttMs": self.rtt_ms})
            return
        if kind == "restart":
            conn.restart_delay_ms = message["delayMs"]
            self._emit("restart", {"delayMs": message["delayMs"]})
            return
        if kind == "ack":
            return
        msg_id = message["id"]
        if kind in ("result", "error"):
            if msg_id in self._reinits:
                self._on_reinit_answer(msg_id, message)
                return
            call = self._calls.get(msg_id)
            if call is not None and call.written_on is conn:
                self._calls.pop(msg_id)
                if call.timer is not None:
                    call.timer.cancel()
                if call.future.done():
                    return
                if kind == "result":
                    try:
                        call.future.set_result(decode_payload(message, "data"))
                    except EncodingError as error:
                        err = RpcError("INTERNAL", "The result could not be deserialized")
                        err.__cause__ = error
                        call.future.set_exception(err)
                else:
                    call.future.set_exception(self._error_of(message))
                return
            sub = self._subs.get(msg_id)
            if sub is not None and kind == "error" and sub._written_on is conn:
                self._subs.pop(msg_id)
                sub._end(self._error_of(message))
            return  # late answers for ids given up on are dropped
        sub = self._subs.get(msg_id)
        if sub is None or sub._written_on is not conn:
            return
        if kind == "started":
            if "eventId" in message:
                sub.last_event_id = message["eventId"]
            sub._push(SubscriptionEvent("started", event_id=message.get("eventId")))
        elif kind == "data":
            try:
                value = decode_payload(message, "data")
            except EncodingError:
                self._unsubscribe(sub, RpcError("INTERNAL", "An event could not be deserialized"))
                return
            if "eventId" in message:
                sub.last_event_id = message["eventId"]
            sub._push(SubscriptionEvent("data", value, message.get("eventId")))
        elif kind == "resync":
            self._emit("resync", {"path": sub.path})
            sub._push(SubscriptionEvent("resync"))
        elif kind == "complete":
            self._subs.pop(msg_id)
            sub._end(None)

    def _on_reinit_answer(self, reinit_id: int, message: Dict[str, Any]) -> None:
        future, params, _ = self._reinits.pop(reinit_id)
        if future.done():
            return
        if message["type"] == "result":
            if params is not ... and not callable(self._params):
                self._params = params
            future.set_result(None)
        else:
            future.set_exception(self._error_of(message))

    @staticmethod
    def _error_of(message: Dict[str, Any]) -> RpcError:
        try:
            data = decode_payload(message, "data")
        except EncodingError:
            data = UNDEFINED
        return RpcError(message["code"], message["message"], data)


def _reraise(event: str) -> None:
    raise RuntimeError(f"a {event} listener raised")

