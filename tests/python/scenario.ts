import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { z } from 'zod'
import { createChannel, initRpc, RpcError, tracked, type RpcErrorCode } from '@wirecall/core'
import { createRpcServer, type CreateContextOptions, type RpcServer, type RpcServerOptions } from '@wirecall/server'

/**
 * The Node side of the Python client's tests (clients/python/tests): a
 * wirecall server whose router covers every scenario, deployed on
 * 127.0.0.1 so that it can be dropped, stalled, restarted and replaced on the
 * same port, and a small HTTP control endpoint through which the Python
 * tests ask for those things (POST /drop, /stall, /restart, /refuse,
 * /publish, GET /stats). The conformance transcripts get a server of their
 * own through /conformance/start (see conformance.ts).
 */

const HOST = '127.0.0.1'
const PATH = '/rpc'

interface Ctx {
  user: string
}

const rpc = initRpc.context<Ctx>().create()

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason as Error)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** What the scenario server has seen; the Python tests read it through GET /stats. */
export interface ScenarioStats {
  /** Calls of `slow` and `slowMutation` stopped before they finished (cancel, timeout, dropped connection). */
  cancelled: number
  /** Runs of `counter.increment`, the idempotent mutation. */
  increments: number
  counter: number
  /** Runs of `slowMutation` that finished. */
  slowMutations: number
  /** Live `feed.events` subscribers. */
  feedSubscribers: number
  /** Live `ticks` generators. */
  liveTicks: number
  /** Connections of the current server. */
  connections: number
  /** Servers started so far (1, then one more per restart). */
  generation: number
}

/** A value with every rich type the default serializer carries, built the same way each time. */
export function richValue(): Record<string, unknown> {
  const shared = { tag: 'shared' }
  const cyclic: Record<string, unknown> = { name: 'loop' }
  cyclic.self = cyclic
  return {
    date: new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 678)),
    big: 12345678901234567890123n,
    negBig: -5n,
    map: new Map<unknown, unknown>([
      ['a', 1],
      [2, new Date(0)],
    ]),
    set: new Set<unknown>(['x', 1, undefined]),
    undef: undefined,
    inArray: [1, undefined, null],
    nan: Number.NaN,
    inf: Number.POSITIVE_INFINITY,
    negInf: Number.NEGATIVE_INFINITY,
    negZero: -0,
    url: new URL('https://example.com/a?b=1'),
    bytes: new Uint8Array([0, 127, 255]),
    floats: new Float64Array([1.5, Number.NaN, -0]),
    sharedA: shared,
    sharedB: shared,
    cyclic,
    'dotted.key': new Date(1),
  }
}

/** Describes a decoded input by the JavaScript types it arrived as, for `inspect`. */
function describe(value: unknown, seen = new Set<unknown>()): unknown {
  if (value === undefined) return 'undefined'
  if (typeof value === 'bigint') return `bigint:${value}`
  if (typeof value === 'number') {
    if (Object.is(value, -0)) return 'number:-0'
    return `number:${value}`
  }
  if (value instanceof Date) return `Date:${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()}`
  if (value instanceof URL) return `URL:${value.href}`
  if (typeof value !== 'object' || value === null) return value
  if (seen.has(value)) return 'cycle'
  seen.add(value)
  try {
    if (value instanceof Map) return { Map: [...value].map(([k, v]) => [describe(k, seen), describe(v, seen)]) }
    if (value instanceof Set) return { Set: [...value].map((v) => describe(v, seen)) }
    if (ArrayBuffer.isView(value)) return { [value.constructor.name]: Array.from(value as Uint8Array, (x) => describe(x, seen)) }
    if (Array.isArray(value)) return value.map((v) => describe(v, seen))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, describe(v, seen)]))
  } finally {
    seen.delete(value)
  }
}

export function createScenarioRouter(stats: { cancelled: number; increments: number; counter: number; slowMutations: number; liveTicks: number }) {
  const feed = createChannel<{ text: string; at: Date }>({ history: 5, epoch: 'py' })
  const router = rpc.router({
    echo: rpc.procedure.input(z.unknown()).query(({ input }) => input),
    echoMutation: rpc.procedure.input(z.unknown()).mutation(({ input }) => input),
    whoami: rpc.procedure.query(({ ctx }) => ctx.user),
    add: rpc.procedure.input(z.object({ a: z.number(), b: z.number() })).query(({ input }) => input.a + input.b),
    fail: rpc.procedure
      .input(z.object({ code: z.string(), message: z.string(), data: z.unknown().optional() }))
      .query(({ input }) => {
        throw new RpcError(input.code as RpcErrorCode, input.message, input.data === undefined ? {} : { data: input.data })
      }),
    crash: rpc.procedure.query(() => {
      throw new Error('a secret the caller must not see')
    }),
    /** Answers `{ waitedMs, tag }` after `ms` (signal-aware). */
    slow: rpc.procedure.input(z.object({ ms: z.number().int().min(0), tag: z.unknown().optional() })).query(async ({ input, signal }) => {
      try {
        await delay(input.ms, signal)
      } catch (error) {
        stats.cancelled++
        throw error
      }
      return { waitedMs: input.ms, tag: input.tag }
    }),
    /** A plain mutation that takes `ms`. */
    slowMutation: rpc.procedure.input(z.object({ ms: z.number().int().min(0) })).mutation(async ({ input, signal }) => {
      try {
        await delay(input.ms, signal)
      } catch (error) {
        stats.cancelled++
        throw error
      }
      stats.slowMutations++
      return 'done'
    }),
    counter: {
      /** Adds `by` after `ms`; meant to be called with an idempotency key. */
      increment: rpc.procedure
        .input(z.object({ by: z.number().int(), ms: z.number().int().min(0).default(0) }))
        .mutation(async ({ input, idempotencyKey }) => {
          stats.increments++
          if (input.ms > 0) await new Promise((resolve) => setTimeout(resolve, input.ms))
          stats.counter += input.by
          return { value: stats.counter, key: idempotencyKey }
        }),
    },
    /** A rich value made on the server: the client must decode every type. */
    rich: rpc.procedure.query(() => richValue()),
    /** The input as the server decoded it, type by type. */
    inspect: rpc.procedure.input(z.unknown()).query(({ input }) => describe(input)),
    /** The input must arrive as real rich types: the schema refuses strings where it wants a Date or a bigint. */
    typed: rpc.procedure
      .input(z.object({ at: z.date(), n: z.bigint(), m: z.map(z.string(), z.number()), s: z.set(z.string()) }))
      .query(({ input }) => ({ year: input.at.getUTCFullYear(), n: input.n + 1n, keys: [...input.m.keys()], size: input.s.size })),
    /** Yields 0..count-1 (untracked), then completes, or ends with `fail`'s error. */
    ticks: rpc.procedure
      .input(z.object({ count: z.number().int().min(0).max(10_000), fail: z.object({ code: z.string(), message: z.string() }).optional(), everyMs: z.number().int().min(0).default(0) }))
      .subscription(async function* ({ input, signal }) {
        stats.liveTicks++
        try {
          for (let i = 0; i < input.count; i++) {
            if (input.everyMs > 0) await delay(input.everyMs, signal)
            yield i
          }
          if (input.fail !== undefined) throw new RpcError(input.fail.code as RpcErrorCode, input.fail.message)
        } finally {
          stats.liveTicks--
        }
      }),
    /** Yields a rich event, tracked, then completes. */
    richEvents: rpc.procedure.subscription(async function* () {
      yield tracked('r1', richValue())
      yield tracked('r2', { at: new Date(Date.UTC(2030, 5, 6)), n: 7n })
    }),
    feed: {
      publish: rpc.procedure.input(z.object({ text: z.string() })).mutation(({ input }) => feed.publish({ text: input.text, at: new Date(Date.UTC(2024, 0, 1)) })),
      events: rpc.procedure.subscription(({ lastEventId, signal }) => feed.subscribe({ lastEventId, signal })),
    },
  })
  return { router, feed }
}

type ScenarioRouter = ReturnType<typeof createScenarioRouter>['router']

/** One server generation: a wirecall server attached to an http server whose sockets are tracked. */
interface Generation {
  rpc: RpcServer
  http: HttpServer
  sockets: Set<Socket>
}

/** Listens on `port` (0: a free one), retrying EADDRINUSE briefly: the previous server may still hold it for a moment. */
async function listen(http: HttpServer, port: number): Promise<number> {
  const deadline = Date.now() + 3_000
  for (;;) {
    try {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject)
        http.listen(port, HOST, () => {
          http.off('error', reject)
          resolve()
        })
      })
      return (http.address() as AddressInfo).port
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EADDRINUSE' || Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
}

function closeHttp(http: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    if (!http.listening) return resolve()
    http.close(() => resolve())
  })
}

/** Refusals that `createContext` makes, set through POST /refuse. */
interface Refusal {
  code: RpcErrorCode
  /** How many connections to refuse; -1: all. */
  count: number
}

/**
 * The scenario server, deployable again and again on one port: `restart`
 * closes the current generation (a deploy, a going-away close or a crash)
 * and starts the next on the same port, with the same router and state.
 */
export class Deployment {
  readonly stats: ScenarioStats = { cancelled: 0, increments: 0, counter: 0, slowMutations: 0, feedSubscribers: 0, liveTicks: 0, connections: 0, generation: 0 }
  private readonly router: ScenarioRouter
  private readonly feed: ReturnType<typeof createScenarioRouter>['feed']
  private current: Generation | undefined
  private readonly retired: Generation[] = []
  private readonly closings: Promise<unknown>[] = []
  private refusal: Refusal | undefined
  port = 0

  constructor(private readonly options: Partial<RpcServerOptions<ScenarioRouter>> = {}) {
    const made = createScenarioRouter(this.stats)
    this.router = made.router
    this.feed = made.feed
  }

  get url(): string {
    return `ws://${HOST}:${this.port}${PATH}`
  }

  private createContext = ({ connectionParams }: CreateContextOptions): Ctx => {
    const refusal = this.refusal
    if (refusal !== undefined && refusal.count !== 0) {
      if (refusal.count > 0) refusal.count--
      throw new RpcError(refusal.code, `refused (${refusal.code})`)
    }
    const params = typeof connectionParams === 'object' && connectionParams !== null ? (connectionParams as Record<string, unknown>) : {}
    if (params.token === 'bad') throw new RpcError('UNAUTHORIZED', 'invalid token')
    if (params.token === 'forbidden') throw new RpcError('FORBIDDEN', 'forbidden')
    return { user: typeof params.user === 'string' ? params.user : 'anonymous' }
  }

  async start(): Promise<void> {
    const server = createRpcServer<ScenarioRouter>({
      router: this.router,
      createContext: this.createContext,
      initTimeoutMs: 1_500,
      ...this.options,
    })
    const http = createHttpServer((_req, res) => res.writeHead(404).end())
    const sockets = new Set<Socket>()
    http.on('connection', (socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
    })
    server.attach(http, { path: PATH })
    this.port = await listen(http, this.port)
    this.current = { rpc: server, http, sockets }
    this.stats.generation++
  }

  /** A network drop: every TCP connection of the current server is destroyed, with no close frame. */
  drop(): number {
    const sockets = [...(this.current?.sockets ?? [])]
    for (const socket of sockets) socket.destroy()
    return sockets.length
  }

  /** A half-open link: the current server stops reading its sockets (and so answers nothing). */
  stall(): number {
    const sockets = [...(this.current?.sockets ?? [])]
    for (const socket of sockets) socket.pause()
    return sockets.length
  }

  /**
   * Replaces the current server on the same port. `deploy`: close({ graceMs,
   * reconnectWindowMs }) (restart notices, then 1012); `goingAway`: close()
   * (1001); `crash`: sockets destroyed, no close frame. Resolves once the new
   * server listens; the old one finishes closing in the background.
   */
  async restart(mode: 'deploy' | 'goingAway' | 'crash', graceMs = 3_000, reconnectWindowMs = 300): Promise<void> {
    const old = this.current
    if (old === undefined) throw new Error('no server to restart')
    this.current = undefined
    this.retired.push(old)
    let closing: Promise<void>
    if (mode === 'deploy') {
      closing = old.rpc.close({ graceMs, reconnectWindowMs })
    } else if (mode === 'goingAway') {
      closing = old.rpc.close()
      await closing
    } else {
      for (const socket of old.sockets) socket.destroy()
      closing = old.rpc.close()
    }
    await closeHttp(old.http) // stop listening, so that the next server can take the port
    this.closings.push(closing.finally(() => {
      for (const socket of old.sockets) socket.destroy()
    }))
    await this.start()
  }

  refuse(code: RpcErrorCode, count: number): void {
    this.refusal = count === 0 ? undefined : { code, count }
  }

  publish(text: string): string {
    return this.feed.publish({ text, at: new Date(Date.UTC(2024, 0, 1)) })
  }

  snapshot(): ScenarioStats {
    return {
      ...this.stats,
      feedSubscribers: this.feed.subscriberCount,
      connections: this.current?.rpc.connectionCount ?? 0,
    }
  }

  /** Closes every generation, and destroys what is left of their sockets. */
  async close(): Promise<void> {
    const all = [...this.retired, ...(this.current === undefined ? [] : [this.current])]
    this.current = undefined
    await Promise.allSettled(all.map((g) => g.rpc.close()))
    await Promise.allSettled(this.closings)
    for (const g of all) {
      for (const socket of g.sockets) socket.destroy()
      await closeHttp(g.http)
    }
  }
}

/** Reads a JSON request body (an empty body is `{}`). */
async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>)
}

/** Extra routes of the control endpoint (the conformance server's). */
export type ControlRoutes = Record<string, (body: Record<string, unknown>) => Promise<unknown>>

/** The control endpoint: JSON over HTTP on 127.0.0.1, for the Python tests. */
export async function startControl(deployment: Deployment, extra: ControlRoutes = {}): Promise<{ url: string; close(): Promise<void> }> {
  const routes: ControlRoutes = {
    '/drop': () => Promise.resolve({ dropped: deployment.drop() }),
    '/stall': () => Promise.resolve({ stalled: deployment.stall() }),
    '/restart': async (body) => {
      const mode = body.mode === 'goingAway' || body.mode === 'crash' ? body.mode : 'deploy'
      await deployment.restart(mode, typeof body.graceMs === 'number' ? body.graceMs : 3_000, typeof body.reconnectWindowMs === 'number' ? body.reconnectWindowMs : 300)
      return { generation: deployment.stats.generation }
    },
    '/refuse': (body) => {
      deployment.refuse(body.code as RpcErrorCode, typeof body.count === 'number' ? body.count : 0)
      return Promise.resolve({})
    },
    '/publish': (body) => Promise.resolve({ eventId: deployment.publish(String(body.text)) }),
    '/stats': () => Promise.resolve(deployment.snapshot()),
    ...extra,
  }
  const sockets = new Set<Socket>()
  const http = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname]
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    }
    if (route === undefined) return reply(404, { error: 'no such route' })
    readJson(req)
      .then(route)
      .then(
        (body) => reply(200, body ?? {}),
        (error: unknown) => reply(500, { error: String(error) }),
      )
  })
  http.on('connection', (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  const port = await listen(http, 0)
  return {
    url: `http://${HOST}:${port}`,
    async close() {
      for (const socket of sockets) socket.destroy()
      await closeHttp(http)
    },
  }
}
