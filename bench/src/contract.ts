/**
 * What every implementation in the benchmark does, so that raw ws, wirecall,
 * tRPC and socket.io do the same work and are checked the same way.
 *
 * Each implementation serves four operations:
 * - `echo(input: EchoInput): EchoInput` — a query answering its input as is;
 * - `stream({ count })` — a subscription that pushes `count` {@link PushEvent}s
 *   (`seq` 0..count-1) as fast as the library lets it, then completes;
 * - `feed` — a subscription to the server's shared feed, delivering every
 *   {@link PushEvent} published after it started;
 * - `publish({ count, burst })` — a mutation that publishes `count` events to
 *   every `feed` subscriber, `burst` events per macrotask (setImmediate
 *   between bursts), and answers once all are published;
 * - `echoText(input: EchoTextInput): EchoTextInput` — a query answering its
 *   input as is, a string of any size (the payload scale case).
 */

/**
 * The names of the implementations, in the table's column order. Beside
 * plain `wirecall`, three variants of it (issue 20), which run only the
 * cases of {@link VARIANT_CASES}: `wirecall-baseline`, wirecall built from
 * another commit (`--baseline REF`); `wirecall-hooks`, with every
 * instrumentation hook present and doing nothing; `wirecall-otel`, with
 * `@wirecall/otel` recording into in-memory exporters.
 */
export const IMPLS = ['raw', 'wirecall', 'wirecall-baseline', 'wirecall-hooks', 'wirecall-otel', 'trpc', 'socketio'] as const
export type ImplName = (typeof IMPLS)[number]

/** The variants of wirecall, which the report also compares with plain wirecall. */
export const WIRECALL_VARIANTS = ['wirecall-baseline', 'wirecall-hooks', 'wirecall-otel'] as const satisfies readonly ImplName[]
export type WirecallVariant = (typeof WIRECALL_VARIANTS)[number]

/**
 * The cases the variants run: a call and a pushed event are where a hook
 * sits on the hot path. The rest would add minutes and tell nothing more
 * (fan-out delivers from a channel, the same path as push).
 */
export const VARIANT_CASES = ['calls', 'push'] as const

export function isVariant(impl: ImplName): impl is WirecallVariant {
  return (WIRECALL_VARIANTS as readonly ImplName[]).includes(impl)
}

/** Whether `impl` runs `caseName` (the variants run only {@link VARIANT_CASES}). */
export function runsCase(impl: ImplName, caseName: string): boolean {
  return !isVariant(impl) || (VARIANT_CASES as readonly string[]).includes(caseName)
}

/** A small object, echoed by `echo`: about 90 bytes of JSON. */
export interface EchoInput {
  id: number
  name: string
  active: boolean
  score: number
  tags: string[]
}

export function echoInput(id: number): EchoInput {
  return { id, name: `user-${id}`, active: id % 2 === 0, score: id * 0.5, tags: ['a', 'b', 'c'] }
}

/** True when `output` is exactly what `echo` must answer for `echoInput(id)`. */
export function isEcho(output: unknown, id: number): boolean {
  const o = output as EchoInput | null
  return (
    typeof o === 'object' &&
    o !== null &&
    o.id === id &&
    o.name === `user-${id}` &&
    o.active === (id % 2 === 0) &&
    o.score === id * 0.5 &&
    Array.isArray(o.tags) &&
    o.tags.length === 3 &&
    o.tags[0] === 'a' &&
    o.tags[1] === 'b' &&
    o.tags[2] === 'c'
  )
}

/** What `echoText` echoes: an id and a string of the size a case chooses. */
export interface EchoTextInput {
  id: number
  text: string
}

/** One pushed event: its sequence number and a small payload. */
export interface PushEvent {
  seq: number
  value: string
  /**
   * Only with `publish({ stamp: true })`: the server's
   * `process.hrtime.bigint()` as the event was published, in ns (a number:
   * exact up to 104 days of uptime). CLOCK_MONOTONIC, shared by every
   * process of the machine, so a client subtracts it from its own.
   */
  at?: number
}

export function pushEvent(seq: number): PushEvent {
  return { seq, value: `event-${seq}` }
}

/** True when `event` is exactly `pushEvent(seq)`. */
export function isPushEvent(event: unknown, seq: number): boolean {
  const e = event as PushEvent | null
  return typeof e === 'object' && e !== null && e.seq === seq && e.value === `event-${seq}`
}

/** What `publish` takes. */
export interface PublishInput {
  count: number
  burst: number
  /** Stamp every event with `at` (the fan-out scale case's latency); absent, the events are `pushEvent(seq)` as is. */
  stamp?: boolean
  /** Pace the bursts at this many events per second (impls/publish-events.ts) instead of one burst per macrotask. */
  perSecond?: number
}

/** Server side of an implementation, run in the server process. */
export interface BenchServer {
  /** Port the server listens on, on 127.0.0.1. */
  port: number
  close(): Promise<void>
}

/**
 * How a scale case wants its server (server-process.ts takes it as JSON).
 * Every field is optional: `{}` is the server the main cases run.
 */
export interface ServeOptions {
  /** Listen on this port instead of an ephemeral one (a restarted server takes its predecessor's port). */
  port?: number
  /**
   * Largest frame the server accepts, in bytes, for a library whose default
   * is below what a case sends (wirecall: `maxPayload`, 1 MiB; socket.io:
   * `maxHttpBufferSize`, 1 MB; raw ws and tRPC keep ws's 100 MiB). Only the
   * payload scale case sets it, at its largest size.
   */
  maxPayload?: number
  /**
   * wirecall only: `rateLimit: false`, its per-connection limits on
   * messages and bytes a client may send turned off (the payload case's
   * second wirecall line, to show what the default byte rate holds back).
   * The other libraries have no such limit.
   */
  rateLimit?: false
  /**
   * wirecall only: `backpressure.maxBufferedAmount` (8 MiB by default), the
   * unsent bytes past which the server cuts a reader off with 1013. Only
   * the payload case sets it, at its largest size, where 16 answers of
   * 1 MiB waiting for a busy client outgrow it.
   */
  maxBufferedAmount?: number
  /**
   * The server's cap on open connections, where the library has one
   * (wirecall: `maxConnections`, 10,000 by default; raw ws, tRPC and
   * socket.io have none). Only a case that needs more connections than the
   * default sets it.
   */
  maxConnections?: number
  /**
   * Makes `close()` a graceful restart (a deploy) instead of a shutdown:
   * wirecall `close({ reconnectWindowMs })`, which tells every client when
   * to come back (absent: wirecall's default window); raw ws closes every
   * socket with 1012 and waits for the closing handshakes; socket.io's
   * `close()` is its graceful close either way.
   */
  restart?: { reconnectWindowMs?: number }
  /**
   * The open-file limit the server process tries to raise itself to before
   * serving (server-process.ts; `status` tells what it got).
   */
  openFiles?: number
}

/** How a scale case wants one client connection. Every field is optional. */
export interface ConnectOptions {
  /** Bind the client socket to this source address (127.0.0.2 and up), so that many connections do not run out of ephemeral ports. */
  localAddress?: string
  /**
   * The client's bound on bytes of calls waiting to be written, where the
   * library has one (wirecall: `offlineQueue.maxBytes`, 4 MiB). Only the
   * payload scale case sets it, at its largest size.
   */
  maxQueuedBytes?: number
}

/** Client side of an implementation, run in the client process: one connection. */
export interface BenchConnection {
  echo(input: EchoInput): Promise<unknown>
  echoText(input: EchoTextInput): Promise<unknown>
  /**
   * Subscribes to `stream`. `onEvent` gets each event; the promise resolves
   * when the stream completes, and rejects on an error.
   */
  stream(count: number, onEvent: (event: unknown) => void): Promise<void>
  /**
   * Subscribes to `feed`; resolves once the server has started the
   * subscription (so an event published afterwards reaches it).
   */
  feed(onEvent: (event: unknown) => void): Promise<{ stop(): void }>
  publish(input: PublishInput): Promise<unknown>
  close(): Promise<void>
}

/** One implementation: how to serve and how to connect. */
export interface Impl {
  name: ImplName
  /** Starts the server on 127.0.0.1, port 0 unless `options.port`. */
  serve(options?: ServeOptions): Promise<BenchServer>
  /** Opens one connection, ready to use (handshake done). */
  connect(port: number, options?: ConnectOptions): Promise<BenchConnection>
}
