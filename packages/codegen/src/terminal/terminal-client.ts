import {
  createRpcClient,
  type AnyClientApi,
  type CallOptions,
  type ClientInstrumentation,
  type ConnectionHandle,
  type HandlerFormOptions,
  type MutationOptions,
  type Subscription,
} from '@wirecall/client'
import type { CliIo } from '../cli/io'
import { recordingWebSocket } from './recording-websocket'

/**
 * One procedure of a router the CLI knows only by its path: the runtime
 * proxy's three methods, typed by what the CLI passes (JSON in, `unknown` out).
 */
export interface UntypedProcedure {
  query(input: unknown, options?: CallOptions): Promise<unknown>
  mutate(input: unknown, options?: MutationOptions): Promise<unknown>
  subscribe(input: unknown, handlers: HandlerFormOptions<unknown>): Subscription
}

/** Why the connection is gone for good, as one line for stderr. */
export interface ConnectionLoss {
  readonly message: string
}

/** Options of {@link openTerminalClient}. */
export interface TerminalClientOptions {
  readonly url: string
  readonly params: Record<string, unknown> | undefined
  /** Bounds each connection attempt, from opening the socket to the server's `ack`. */
  readonly connectTimeoutMs: number
  /** More hooks, beside the ones that report the connection (subscribe reads event ids with `onEvent`). */
  readonly instrumentation?: readonly ClientInstrumentation[]
  readonly io: CliIo
}

/** A client for the terminal commands; see {@link openTerminalClient}. */
export interface TerminalClient {
  /** The procedure at `segments`, on the untyped proxy. */
  procedure(segments: readonly string[]): UntypedProcedure
  readonly connection: ConnectionHandle
  /**
   * Resolves once the connection is gone for good: the first connection
   * failed (refused, unreachable, no `ack` in time, closed by the server
   * before it), or the server closed later with a terminal code (4401,
   * 4400...). Never rejects; stays pending after {@link close}.
   */
  readonly lost: Promise<ConnectionLoss>
  /**
   * The same loss, once it happened, read synchronously. It is set before
   * the client rejects what was waiting on the connection, so a call or
   * subscription that failed with a close error finds the reason here.
   */
  readonly loss: ConnectionLoss | undefined
  /** Writes one status line on stderr. */
  note(line: string): void
  /** Closes the connection (an unsubscribe sent just before goes out first); resolves once the socket is closed. */
  close(): Promise<void>
}

/**
 * Reconnects after a drop once the connection has been open: every 250 ms
 * at first, backing off to every 5 s, without a cap on attempts — an open
 * `subscribe` outlives a deploy or a network blip and resumes from its last
 * event id, as a wirecall app does; a `call` is bounded by `--timeout`.
 * The first connection is not retried (see {@link openTerminalClient}).
 */
const RECONNECT = { minDelayMs: 250, maxDelayMs: 5_000 } as const

/**
 * Creates the client behind `wirecall call` and `wirecall subscribe`: `ws`
 * as the WebSocket, `--params` as `connectionParams`, and the connection's
 * life on stderr, one short line per change (`connecting to …`, `open`,
 * `closed (1006); reconnecting in 250 ms, attempt 1`, `closed (4401: …)`),
 * so stdout carries results only.
 *
 * The first connection is bounded: if the socket closes before the server's
 * first `ack` (refused, unreachable, a wrong path, `createContext` refusing,
 * no `ack` within `connectTimeoutMs`), {@link TerminalClient.lost} resolves
 * at once, and the command closes the client and exits 3 instead of
 * letting the client retry: a person at a terminal wants to know now.
 */
export function openTerminalClient(options: TerminalClientOptions): TerminalClient {
  const { io, url } = options
  const note = (line: string) => void io.stderr.write(`wirecall: ${line}\n`)
  let socketError: Error | undefined
  let opened = false
  let closing = false
  let pendingReconnect: { attempt: number; delayMs: number } | undefined
  /** Why the previous socket closed, to tell a new reason from a repeated one. */
  let lastWhy: string | undefined
  let loss: ConnectionLoss | undefined
  let resolveLost: (loss: ConnectionLoss) => void = () => {}
  const lost = new Promise<ConnectionLoss>((resolve) => (resolveLost = resolve))
  const reportLoss = (message: string) => {
    if (closing || loss !== undefined) return
    loss = { message }
    resolveLost(loss)
  }

  const api = createRpcClient<AnyClientApi>({
    url,
    WebSocket: recordingWebSocket((error) => (socketError = error)),
    ...(options.params === undefined ? {} : { connectionParams: options.params }),
    connectTimeoutMs: options.connectTimeoutMs,
    reconnect: RECONNECT,
    ...(options.instrumentation === undefined ? {} : { instrumentation: options.instrumentation }),
  })
  const connection = api.$connection
  // The client dials as it is created, before a listener can hear `connecting`.
  if (connection.state === 'connecting') note(`connecting to ${url}`)

  // A socket that closes is reported by the `close` event, which comes after
  // the client has decided: `reconnect` (scheduled) or `closed` (for good)
  // is emitted first. `closed` is where a loss is reported, because the
  // client rejects what was waiting right after it.
  connection.on('state', (state) => {
    if (state === 'connecting') note(`connecting to ${url}`)
    else if (state === 'open') {
      opened = true
      socketError = undefined
      lastWhy = undefined
      note('open')
    } else if (state === 'closed') {
      // Closing after a loss was reported says nothing new.
      if (closing) return loss === undefined ? note('closed') : undefined
      const error = connection.error
      const data = error?.data as { closeCode?: unknown; closeReason?: unknown } | undefined
      const why =
        typeof data?.closeCode === 'number'
          ? describeClose(data.closeCode, typeof data.closeReason === 'string' ? data.closeReason : '', socketError)
          : (error?.message ?? 'closed')
      if (!opened) return reportLoss(`cannot connect to ${url}: ${why}`)
      note(`closed (${why})`)
      reportLoss(`the server closed the connection (${why})`)
    }
  })
  connection.on('reconnect', (attempt) => {
    pendingReconnect = attempt
  })
  connection.on('close', ({ code, reason }) => {
    const why = describeClose(code, reason, socketError)
    socketError = undefined
    const retry = pendingReconnect
    pendingReconnect = undefined
    // No retry scheduled: the client is closed, and `state` reported it.
    if (retry === undefined) return
    if (!opened) return reportLoss(`cannot connect to ${url}: ${why}`)
    // While a server stays down, one line per attempt would bury the output: attempts 1, 2, 4, 8… are shown, and any whose reason changed.
    if (why !== lastWhy || isPowerOfTwo(retry.attempt)) note(`closed (${why}); reconnecting in ${retry.delayMs} ms, attempt ${retry.attempt}`)
    lastWhy = why
  })
  connection.on('resubscribe', ({ path, lastEventId }) => {
    note(lastEventId === undefined ? `resubscribed to ${path}` : `resubscribed to ${path} after ${lastEventId}`)
  })

  return {
    procedure: (segments) => {
      let node: unknown = api
      // The proxy builds a child for any key: this walk cannot fail, only the call can (NOT_FOUND).
      for (const segment of segments) node = Reflect.get(node as object, segment)
      return node as UntypedProcedure
    },
    connection,
    lost,
    get loss() {
      return loss
    },
    note,
    close: () => {
      closing = true
      return connection.close()
    },
  }
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0
}

/** `1006: connect ECONNREFUSED 127.0.0.1:4000`, `4401: sign in first`, `1000`. */
function describeClose(code: number, reason: string, socketError: Error | undefined): string {
  const detail = socketError?.message ?? reason
  return detail === '' ? String(code) : `${code}: ${detail}`
}

/** The close code an `RpcError` made from a close carries in its `data` (`closeError` in core). */
export function closeCodeOf(data: unknown): number | undefined {
  const code = typeof data === 'object' && data !== null ? (data as { closeCode?: unknown }).closeCode : undefined
  return typeof code === 'number' ? code : undefined
}
