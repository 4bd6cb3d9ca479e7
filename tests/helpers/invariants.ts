import { onTestFinished } from 'vitest'
import { inspect } from 'node:util'
import type { AnyRouter } from '@wirecall/core'
import type { RpcClient } from '@wirecall/client'
import type { RpcServer, ServerStats } from '@wirecall/server'
import { connectClient, sleep, within, type RawPeer } from './harness'

/**
 * The global invariants of a server under hostile input, made explicit so
 * that every hostile test checks all of them, the same way, after the fact.
 * A hostile case can "pass" its own assertion (the right close code) and
 * still have broken something global: a crash recorded by the process, a
 * resolver left running after its connection closed, a prototype polluted,
 * a server that no longer answers anybody else. These helpers look for that.
 *
 * @example
 * ```ts
 * const { server, url } = await startServer({ router })
 * const inv = watchInvariants(server, url, { probe: async (api) => expect(await api.ok.query()).toBe('ok') })
 * const peer = inv.hostile(await readyPeer(url))
 * peer.send('not json')
 * expect((await peer.closed).code).toBe(4400)
 * await inv.check()
 * ```
 */

/** What {@link watchProcess} recorded: errors nobody handled. */
export interface ProcessWatch {
  /** `uncaughtException`s and `unhandledRejection`s since the watch began, in order. */
  readonly errors: readonly { kind: 'uncaughtException' | 'unhandledRejection'; error: unknown }[]
  /**
   * Throws when anything was recorded, or when a built-in prototype
   * (`Object`, `Array`, `Function`) gained, lost or changed a property.
   */
  check(): void
}

/**
 * Records every `uncaughtException` and `unhandledRejection` of the process
 * from now until the end of the test (the listeners are removed then), and
 * snapshots the built-in prototypes. Use it alone where there is no
 * `RpcServer` to check (a hand-written server talking to a real client);
 * {@link watchInvariants} includes it.
 *
 * The listeners are added next to vitest's own, which still report the
 * error and fail the run; recording it here as well makes the failure point
 * at the hostile case that caused it instead of at whatever test was running
 * when vitest noticed.
 */
export function watchProcess(): ProcessWatch {
  const errors: { kind: 'uncaughtException' | 'unhandledRejection'; error: unknown }[] = []
  const onException = (error: unknown) => errors.push({ kind: 'uncaughtException', error })
  const onRejection = (error: unknown) => errors.push({ kind: 'unhandledRejection', error })
  process.on('uncaughtException', onException)
  process.on('unhandledRejection', onRejection)
  onTestFinished(() => {
    process.off('uncaughtException', onException)
    process.off('unhandledRejection', onRejection)
  })
  const before = snapshotPrototypes()
  return {
    errors,
    check() {
      if (errors.length > 0) {
        throw new Error(`the process recorded ${errors.length} unhandled error(s):\n${errors.map((e) => `${e.kind}: ${inspect(e.error)}`).join('\n')}`)
      }
      const changed = diffPrototypes(before, snapshotPrototypes())
      if (changed.length > 0) throw new Error(`built-in prototypes were changed: ${changed.join(', ')}`)
    },
  }
}

/**
 * {@link watchProcess}, checked when the test finishes. Call it before
 * starting servers: `onTestFinished` runs in reverse, so the check then
 * runs after their teardown, and sees what the teardown set off too.
 */
export function failOnEscapedErrors(): void {
  const watch = watchProcess()
  onTestFinished(() => watch.check())
}

/** Options of {@link watchInvariants}. */
export interface InvariantOptions<TRouter extends AnyRouter> {
  /**
   * The call a fresh, well-behaved client makes to show that the server
   * still serves. It asserts its own answer (a call that merely settles is
   * not enough: a wrong answer to a good client is a broken server too).
   */
  probe: (api: RpcClient<TRouter>) => Promise<unknown>
  /** Bound on the probe, from creating the client to the answer. @default 500 */
  probeTimeoutMs?: number
  /** How long after the hostile peers closed the server may take to release everything. @default 1_000 */
  settleTimeoutMs?: number
}

/** Options of {@link Invariants.check}. */
export interface CheckOptions {
  /**
   * Well-behaved connections the test still holds open, which the server
   * must still count. Hostile peers registered with
   * {@link Invariants.hostile} are closed by `check()` and never count.
   * @default 0
   */
  openConnections?: number
}

/** See {@link watchInvariants}. */
export interface Invariants extends ProcessWatch {
  /**
   * Registers a promise that must have settled by the time `check()`
   * finishes (within its settle window): a resolver's end, a generator's
   * `finally`, a client call. Returns the same promise.
   */
  track<T>(promise: Promise<T>, what?: string): Promise<T>
  /** Registers a hostile raw peer: `check()` closes it (if the server did not) and waits for the server to let go of it. */
  hostile<P extends RawPeer>(peer: P): P
  /**
   * Asserts, in order:
   *
   * (a) the process is alive and serving: a fresh well-behaved client
   *     (`connectClient`) connects and completes the probe call within
   *     `probeTimeoutMs`. The server runs in this very process, so this is
   *     also how a process that was about to die, or an event loop that is
   *     blocked, shows up;
   * (b) no `uncaughtException` or `unhandledRejection` was recorded, and no
   *     built-in prototype changed;
   * (c) every promise registered with `track()` has settled;
   * (d) within `settleTimeoutMs` of the hostile peers (and the probe client)
   *     closing, `server.stats()` shows 0 calls in flight, 0 subscriptions,
   *     0 connections unwinding, and exactly `openConnections` connections.
   *
   * (c) and (d) share the settle window: a resolver may still be finishing
   * its `finally` when the socket closes. Throws describing what is off.
   */
  check(options?: CheckOptions): Promise<void>
}

/**
 * Watches the process and `server` for the duration of a test; see
 * {@link Invariants.check} for what is asserted. Call it before the hostile
 * part of the test, so that everything the process records is caught.
 */
export function watchInvariants<TRouter extends AnyRouter>(server: RpcServer, url: string, options: InvariantOptions<TRouter>): Invariants {
  const watch = watchProcess()
  const probeTimeoutMs = options.probeTimeoutMs ?? 500
  const settleTimeoutMs = options.settleTimeoutMs ?? 1_000
  const tracked: { what: string; settled: boolean }[] = []
  const peers: RawPeer[] = []

  return {
    get errors() {
      return watch.errors
    },
    check: async (checkOptions = {}) => {
      // (a) Serving: measured from the client's creation, so a slow handshake counts too.
      const api = connectClient<TRouter>(url)
      try {
        await within(options.probe(api), `a fresh client's probe call`, probeTimeoutMs)
      } catch (error) {
        // A crash or a polluted prototype is the likelier cause of a failed probe: name it instead.
        watch.check()
        throw error
      } finally {
        await api.$connection.close()
      }

      // (d) starts counting when the last hostile peer is gone.
      await Promise.all(peers.map((peer) => closePeer(peer)))
      const deadline = performance.now() + settleTimeoutMs
      const wanted = { connections: checkOptions.openConnections ?? 0, inFlightCalls: 0, subscriptions: 0, unwinding: 0 }
      const current = () => pick(server.stats())
      const pending = () => tracked.filter((t) => !t.settled).map((t) => t.what)
      while (!(sameStats(current(), wanted) && pending().length === 0) && performance.now() < deadline) await sleep(5)

      // (b) after the wait: an error thrown while things unwound is recorded by now.
      watch.check()
      // (c)
      const unsettled = pending()
      if (unsettled.length > 0) throw new Error(`${unsettled.length} tracked promise(s) still pending ${settleTimeoutMs} ms after the peers closed: ${unsettled.join(', ')}`)
      // (d)
      const stats = current()
      if (!sameStats(stats, wanted)) {
        throw new Error(`server.stats() ${settleTimeoutMs} ms after the peers closed: ${inspect(stats)}; expected ${inspect(wanted)}`)
      }
    },
    track(promise, what = `tracked promise #${tracked.length + 1}`) {
      const entry = { what, settled: false }
      tracked.push(entry)
      const done = () => {
        entry.settled = true
      }
      promise.then(done, done)
      return promise
    },
    hostile(peer) {
      peers.push(peer)
      return peer
    },
  }
}

type Counted = Pick<ServerStats, 'connections' | 'inFlightCalls' | 'subscriptions' | 'unwinding'>

function pick(stats: ServerStats): Counted {
  return { connections: stats.connections, inFlightCalls: stats.inFlightCalls, subscriptions: stats.subscriptions, unwinding: stats.unwinding }
}

function sameStats(a: Counted, b: Counted): boolean {
  return a.connections === b.connections && a.inFlightCalls === b.inFlightCalls && a.subscriptions === b.subscriptions && a.unwinding === b.unwinding
}

/** Closes a peer politely, and cuts it off if the closing handshake does not finish within a second. */
async function closePeer(peer: RawPeer): Promise<void> {
  const { ws } = peer
  if (ws.readyState === ws.CLOSED) return
  if (ws.readyState === ws.OPEN) ws.close(1000, 'test done')
  const timer = setTimeout(() => ws.terminate(), 1_000)
  await peer.closed
  clearTimeout(timer)
}

type PrototypeSnapshot = Map<string, PropertyDescriptor | undefined>

const PROTOTYPES: [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
]

function snapshotPrototypes(): PrototypeSnapshot {
  const snapshot: PrototypeSnapshot = new Map()
  for (const [name, proto] of PROTOTYPES) {
    for (const key of Reflect.ownKeys(proto)) snapshot.set(`${name}[${String(key)}]`, Object.getOwnPropertyDescriptor(proto, key))
    snapshot.set(`${name} prototype`, { value: Object.getPrototypeOf(proto) as unknown })
  }
  return snapshot
}

function diffPrototypes(before: PrototypeSnapshot, after: PrototypeSnapshot): string[] {
  const changed: string[] = []
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(key)
    const b = after.get(key)
    if (a === undefined || b === undefined) {
      changed.push(a === undefined ? `${key} added` : `${key} removed`)
      continue
    }
    if (a.value !== b.value || a.get !== b.get || a.set !== b.set || a.writable !== b.writable || a.enumerable !== b.enumerable || a.configurable !== b.configurable) {
      changed.push(`${key} changed`)
    }
  }
  return changed
}
