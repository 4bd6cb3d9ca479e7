import WebSocket from 'ws'
import { createChannel, initRpc, RpcError, type Channel } from '@wirecall/core'
import { createRpcClient, type RpcClient } from '@wirecall/client'
import { createRpcServer, type RpcServer } from '@wirecall/server'
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy'
import { sleep, waitUntil, within } from '../../helpers/harness'
import { trackTimers } from '../../helpers/timer-tracker'

/**
 * Scenario code behind reconnect-matrix.test.ts (docs/reconnect.md, "What
 * the caller sees"). Each failure kind is played once, with every operation
 * of the table in the air at the same moment, and everything observed is
 * returned for the cells to assert on. Playing them together is the point:
 * the table describes what one app sees when one failure hits it, not five
 * separate experiments.
 */

export type FailureKind =
  | 'clean close'
  | 'deploy restart'
  | 'network drop'
  | 'half-open link'
  | 'auth rejected'
  | 'server gone for good'

/** How long the slow procedures take on the server: long enough to be surely in flight when the failure hits. */
export const SLOW_MS = 150
/** Per-call timeout: far longer than any scenario, so a TIMEOUT can only mean a call was left waiting. */
export const CALL_TIMEOUT_MS = 10_000
/** Events a resumed subscription must deliver after its resubscribe, to show it is live again. */
export const EVENTS_AFTER_RECOVERY = 10
/** Retries of the client in 'server gone for good'. */
export const GONE_MAX_RETRIES = 2

const PUBLISH_EVERY_MS = 5
const PATH = '/rpc'
const HOST = '127.0.0.1'

/** A call's outcome, with its place in the scenario's event log. */
export type Settled = ({ ok: true; value: unknown } | { ok: false; error: unknown }) & {
  /** Index of its `settled:<name>` entry in {@link ScenarioResult.log}. */
  at: number
  elapsedMs: number
}

export interface SubscriptionRecord {
  /** Event payloads (the publisher's increasing numbers), in arrival order. */
  received: number[]
  errors: RpcError[]
  resyncs: number
  completes: number
  /** How many events had arrived when the failure was injected. */
  receivedBeforeFailure: number
  /** How many had arrived when the client reported the resubscribe (undefined: none). */
  receivedAtResubscribe: number | undefined
}

export interface ScenarioResult {
  /**
   * What happened, in order: `failure`, `queued (<state>)`, `state:<s>`,
   * `close:<code>`, `restart`, `reconnect`, `resubscribe`, `settled:<call>`,
   * `subscription:error`. Cells assert orderings on it ("rejected at the
   * drop, before the client gave up").
   */
  log: string[]
  query: Settled
  mutation: Settled
  idempotent: Settled
  queued: Settled
  /** The state the client was in when the queued call was made. */
  queuedInState: string
  subscription: SubscriptionRecord
  /** Times each procedure started running on a server (all servers of the scenario). */
  runs: { query: number; mutation: number; idempotent: number; fast: number }
  /** Close codes the client saw, in order. */
  closeCodes: number[]
  /** `lastEventId`s the client resubscribed with. */
  resubscribedWith: (string | undefined)[]
  clientState: string
  clientError: RpcError | undefined
  /** Subscription generators started on the servers, and still running once the peers had gone (before the servers closed), and after. */
  generatorsStarted: number
  liveGeneratorsAfterDisconnect: number
  liveGeneratorsAfterServerClose: number
  /** Timers tracked (from before the client was created) that were live while the calls were running. */
  liveTimersWhileRunning: number
  /** Tracked timers still live once the client, proxies and servers are closed. */
  liveTimers: number
  liveTimerStacks: string[]
  /** Connections each server still counted after its close. */
  leakedConnections: number[]
}

/** Things to close, registered as they are created so that a failed scenario leaves nothing behind (see {@link closeLeftovers}). */
const leftovers = new Set<() => Promise<void>>()

/** Closes whatever a scenario that threw left open. For `afterAll`. */
export async function closeLeftovers(): Promise<void> {
  const closers = [...leftovers]
  leftovers.clear()
  await Promise.allSettled(closers.map((close) => close()))
}

/** Registers `close` (made idempotent) as a leftover and returns the idempotent version. */
function owned(close: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined
  const once = () => {
    leftovers.delete(once)
    return (done ??= close())
  }
  leftovers.add(once)
  return once
}

const rpc = initRpc.create()

/** Shared by every server of a scenario, as a database and a message bus would outlive a deploy. */
class World {
  readonly channel: Channel<number> = createChannel<number>({ history: 5_000 })
  readonly runs = { query: 0, mutation: 0, idempotent: 0, fast: 0 }
  liveGenerators = 0
  generatorsStarted = 0
  rejectAuth = false
  private next = 1
  readonly router: AppRouter = makeRouter(this)
  readonly stopPublishing: () => Promise<void>

  constructor() {
    const publisher = setInterval(() => this.channel.publish(this.next++), PUBLISH_EVERY_MS)
    // Only the interval: closing the channel would end the generators by itself and hide a leak on disconnect.
    this.stopPublishing = owned(async () => clearInterval(publisher))
  }

  createContext = () => {
    if (this.rejectAuth) throw new RpcError('UNAUTHORIZED', 'token revoked')
    return {}
  }
}

/** The router every server of a scenario serves; its procedures count their runs in `world`. */
function makeRouter(world: World) {
  const { runs, channel } = world
  return rpc.router({
    slowQuery: rpc.procedure.query(async ({ signal }) => {
      runs.query++
      await sleep(SLOW_MS, signal)
      return 'query result'
    }),
    slowMutation: rpc.procedure.mutation(async ({ signal }) => {
      runs.mutation++
      await sleep(SLOW_MS, signal)
      return 'mutation result'
    }),
    slowIdempotent: rpc.procedure.mutation(async ({ signal }) => {
      runs.idempotent++
      await sleep(SLOW_MS, signal)
      return 'idempotent result'
    }),
    fastQuery: rpc.procedure.query(() => {
      runs.fast++
      return 'fast result'
    }),
    feed: rpc.procedure.subscription(async function* ({ lastEventId, signal }) {
      world.liveGenerators++
      world.generatorsStarted++
      try {
        for await (const event of channel.subscribe({ lastEventId, signal })) yield event
      } finally {
        world.liveGenerators--
      }
    }),
  })
}

type AppRouter = ReturnType<typeof makeRouter>

interface StartedServer {
  server: RpcServer
  port: number
  url: string
  close: () => Promise<void>
}

/** Starts a server of `world` on `port` (0: a free one). A just-freed port may still be busy for a moment: retried briefly. */
async function startWorldServer(world: World, port = 0): Promise<StartedServer> {
  const deadline = Date.now() + 2_000
  for (;;) {
    const server = createRpcServer({ router: world.router, createContext: world.createContext })
    const close = owned(() => server.close())
    try {
      const info = await server.listen({ port, host: HOST, path: PATH })
      return { server, port: info.port, url: info.url, close }
    } catch (error) {
      await close()
      if ((error as { code?: unknown }).code !== 'EADDRINUSE' || Date.now() > deadline) throw error
      await sleep(20)
    }
  }
}

/** Settles `promise` into a {@link Settled}, logging when. */
function settle(name: string, promise: Promise<unknown>, log: string[]): Promise<Settled> {
  const start = Date.now()
  const done = (outcome: { ok: true; value: unknown } | { ok: false; error: unknown }): Settled => {
    log.push(`settled:${name}`)
    return { ...outcome, at: log.length - 1, elapsedMs: Date.now() - start }
  }
  return promise.then(
    (value) => done({ ok: true, value }),
    (error: unknown) => done({ ok: false, error }),
  )
}

/**
 * Plays one failure: a subscription streaming, a query, a mutation and an
 * idempotent mutation running on the server, then the failure, a call made
 * while the client is reconnecting, the recovery (or not), and a teardown
 * that checks nothing was left running.
 */
export async function runScenario(kind: FailureKind): Promise<ScenarioResult> {
  const world = new World()
  const log: string[] = []
  const servers: StartedServer[] = []
  let proxy: FaultProxy | undefined
  let closeClient: (() => Promise<void>) | undefined
  let closeProxy: (() => Promise<void>) | undefined
  try {
    const first = await startWorldServer(world)
    servers.push(first)
    let url = first.url
    if (kind !== 'clean close' && kind !== 'deploy restart') {
      proxy = await startFaultProxy(first.port)
      closeProxy = owned(proxy.close.bind(proxy))
      url = proxy.url(PATH)
    }

    // From here on every timer is counted: the client's, and the servers' per-connection ones.
    const timers = trackTimers()
    const api: RpcClient<AppRouter> = createRpcClient<AppRouter>({
      url,
      WebSocket,
      timeoutMs: CALL_TIMEOUT_MS,
      reconnect: {
        minDelayMs: 20,
        maxDelayMs: 100,
        ...(kind === 'server gone for good' ? { maxRetries: GONE_MAX_RETRIES } : {}),
      },
      // Only the half-open link needs a heartbeat: every other failure is seen by the socket itself.
      keepAlive: kind === 'half-open link' ? { intervalMs: 100, timeoutMs: 100 } : false,
    })
    closeClient = owned(() => api.$connection.close())

    const closeCodes: number[] = []
    const resubscribedWith: (string | undefined)[] = []
    const sub: SubscriptionRecord = {
      received: [],
      errors: [],
      resyncs: 0,
      completes: 0,
      receivedBeforeFailure: 0,
      receivedAtResubscribe: undefined,
    }
    api.$connection.on('close', ({ code }) => {
      closeCodes.push(code)
      log.push(`close:${code}`)
    })
    api.$connection.on('restart', () => log.push('restart'))
    api.$connection.on('reconnect', () => log.push('reconnect'))
    api.$connection.on('resubscribe', ({ lastEventId }) => {
      resubscribedWith.push(lastEventId)
      sub.receivedAtResubscribe ??= sub.received.length
      log.push('resubscribe')
    })

    // The queued call is made the moment the client starts reconnecting, so it surely waits for the next connection.
    let queued: Promise<Settled> | undefined
    let queuedInState = ''
    const makeQueuedCall = () => {
      queuedInState = api.$connection.state
      log.push(`queued (${queuedInState})`)
      queued = settle('queued', api.fastQuery.query(), log)
    }
    api.$connection.on('state', (state) => {
      log.push(`state:${state}`)
      if (state === 'reconnecting' && queued === undefined && log.includes('failure')) makeQueuedCall()
    })

    api.feed.subscribe(undefined, {
      onData: (n) => sub.received.push(n),
      onResync: () => sub.resyncs++,
      onError: (error) => {
        sub.errors.push(error)
        log.push('subscription:error')
      },
      onComplete: () => sub.completes++,
    })
    await waitUntil(() => sub.received.length >= 5, 'the subscription to deliver events')

    const query = settle('query', api.slowQuery.query(), log)
    const mutation = settle('mutation', api.slowMutation.mutate(), log)
    const idempotent = settle('idempotent', api.slowIdempotent.mutate(undefined, { idempotent: true }), log)
    await waitUntil(
      () => world.runs.query === 1 && world.runs.mutation === 1 && world.runs.idempotent === 1,
      'the three calls to be running on the server',
    )

    // Proof that the tracker sees the client's timers (the calls' timeouts at least), so a 0 at the end means something.
    const liveTimersWhileRunning = timers.live()
    sub.receivedBeforeFailure = sub.received.length
    log.push('failure')
    let closingFirst: Promise<void> | undefined
    switch (kind) {
      case 'clean close': {
        const closing = closeClient()
        makeQueuedCall()
        await within(closing, 'api.$connection.close()')
        break
      }
      case 'deploy restart': {
        // Restart mode stops listening at once, so the new server can take the port while the old one drains.
        closingFirst = first.server.close({ graceMs: 1_000, reconnectWindowMs: 100 })
        servers.push(await startWorldServer(world, first.port))
        break
      }
      case 'network drop':
        proxy!.cut()
        break
      case 'half-open link':
        proxy!.stall()
        break
      case 'auth rejected':
        // The open connection keeps its context; only the reconnect meets the refusal.
        world.rejectAuth = true
        proxy!.cut()
        break
      case 'server gone for good':
        // Nothing answers on the proxy's port any more (and no other process can take it meanwhile).
        proxy!.refuse(true)
        closingFirst = first.server.close()
        break
    }

    await waitUntil(() => queued !== undefined, 'the queued call to be made', 5_000)
    const [q, m, i, qd] = await within(Promise.all([query, mutation, idempotent, queued!]), 'every call to settle', 5_000)
    const resumes = kind === 'deploy restart' || kind === 'network drop' || kind === 'half-open link'
    if (resumes) {
      await waitUntil(
        () => sub.receivedAtResubscribe !== undefined && sub.received.length >= sub.receivedAtResubscribe + EVENTS_AFTER_RECOVERY,
        'events after the resubscribe',
        5_000,
      )
    } else {
      await waitUntil(() => sub.errors.length > 0, 'the subscription to end with an error', 5_000)
    }
    await closingFirst
    const clientState = api.$connection.state
    const clientError = api.$connection.error
    // What the app saw, before the teardown below adds its own close to it.
    const seen = {
      log: [...log],
      subscription: { ...sub, received: [...sub.received], errors: [...sub.errors] },
      closeCodes: [...closeCodes],
      resubscribedWith: [...resubscribedWith],
    }

    // Teardown, checking that nothing was left running: client first, then the network, then the servers.
    await closeClient()
    await world.stopPublishing()
    await closeProxy?.()
    await waitUntil(() => world.liveGenerators === 0, 'the server-side generators to end', 2_000).catch(() => {})
    const liveGeneratorsAfterDisconnect = world.liveGenerators
    for (const s of servers) await s.close()
    const liveGeneratorsAfterServerClose = world.liveGenerators
    const leakedConnections = servers.map((s) => s.server.connectionCount)
    const liveTimers = timers.live()
    const liveTimerStacks = timers.liveStacks()
    timers.restore()

    return {
      ...seen,
      query: q,
      mutation: m,
      idempotent: i,
      queued: qd,
      queuedInState,
      runs: { ...world.runs },
      clientState,
      clientError,
      generatorsStarted: world.generatorsStarted,
      liveGeneratorsAfterDisconnect,
      liveGeneratorsAfterServerClose,
      liveTimersWhileRunning,
      liveTimers,
      liveTimerStacks,
      leakedConnections,
    }
  } finally {
    await closeClient?.()
    await world.stopPublishing()
    await closeProxy?.()
    for (const s of servers) await s.close()
    world.channel.close()
  }
}
