import { afterAll, describe, expect, it } from 'vitest'
import { inspect } from 'node:util'
import { initRpc, isRpcError } from '@wirecall/core'
import { connectClient, sleep, startServer, waitUntil } from '../../helpers/harness'
import {
  CALL_TIMEOUT_MS,
  EVENTS_AFTER_RECOVERY,
  GONE_MAX_RETRIES,
  closeLeftovers,
  runScenario,
  type FailureKind,
  type ScenarioResult,
  type Settled,
} from './reconnect-matrix.scenario'

/**
 * The table of docs/reconnect.md ("What the caller sees"), one test per
 * cell: `reconnect matrix › <failure> › <operation>`. The docs cite these
 * names, and tests/docs/reconnect-table.test.ts checks every cell has one.
 *
 * Each failure is played once, on real sockets (with a TCP fault proxy where
 * the network misbehaves), with every operation in the air together; see
 * reconnect-matrix.scenario.ts. The first test of a describe runs it; the
 * others read what it recorded.
 */

/** Runs a failure's scenario on first use, inside whichever test needs it first. */
function scenario(kind: FailureKind): () => Promise<ScenarioResult> {
  let result: Promise<ScenarioResult> | undefined
  return () => (result ??= runScenario(kind))
}

/** The error code a call rejected with; fails the test when it resolved or rejected with something else. */
function codeOf(settled: Settled): string {
  if (settled.ok) throw new Error(`expected the call to reject; it resolved with ${inspect(settled.value)}`)
  if (!isRpcError(settled.error)) throw new Error(`expected an RpcError; got ${inspect(settled.error)}`)
  return settled.error.code
}

/** What a call resolved with; fails the test (showing the error) when it rejected. */
function valueOf(settled: Settled): unknown {
  if (!settled.ok) throw new Error(`expected the call to resolve; it rejected with ${inspect(settled.error)}`)
  return settled.value
}

/** Index in the log of the first `entry` after the failure was injected. */
function afterFailure(r: ScenarioResult, entry: string): number {
  const index = r.log.indexOf(entry, r.log.indexOf('failure'))
  if (index === -1) throw new Error(`no "${entry}" after the failure in the log: ${r.log.join(', ')}`)
  return index
}

/** A resumed subscription: nothing lost, nothing twice, no resync, and live again after the reconnect. */
function expectResumed(r: ScenarioResult): void {
  const sub = r.subscription
  expect(sub.errors).toEqual([])
  expect(sub.resyncs).toBe(0)
  expect(sub.completes).toBe(0)
  expect(r.resubscribedWith).toHaveLength(1)
  expect(r.resubscribedWith[0]).toEqual(expect.any(String))
  expect(sub.receivedAtResubscribe).toBeGreaterThanOrEqual(sub.receivedBeforeFailure)
  expect(sub.received.length).toBeGreaterThanOrEqual(sub.receivedAtResubscribe! + EVENTS_AFTER_RECOVERY)
  const breaks = sub.received.flatMap((n, i) => (i > 0 && n !== sub.received[i - 1]! + 1 ? [`${sub.received[i - 1]} then ${n} (event #${i})`] : []))
  expect(breaks, 'gaps or duplicates in the event sequence').toEqual([])
}

/** A call made while reconnecting that waited for the next connection and was answered there. */
function expectSentAfterReconnect(r: ScenarioResult): void {
  expect(r.queuedInState).toBe('reconnecting')
  expect(valueOf(r.queued)).toBe('fast result')
  expect(r.queued.at).toBeGreaterThan(afterFailure(r, 'state:open'))
  expect(r.runs.fast).toBe(1)
}

/** Nothing left running: no generator on the servers, no connection, no timer (client's or servers'). */
function expectNothingLeft(r: ScenarioResult): void {
  expect(r.generatorsStarted).toBeGreaterThan(0)
  expect(r.liveGeneratorsAfterDisconnect, 'generators still running once the client had gone').toBe(0)
  expect(r.liveGeneratorsAfterServerClose).toBe(0)
  expect(r.leakedConnections.every((n) => n === 0), `connections left: ${r.leakedConnections.join(', ')}`).toBe(true)
  expect(r.liveTimersWhileRunning, 'timers seen while the calls were running').toBeGreaterThanOrEqual(3)
  expect(r.liveTimers, r.liveTimerStacks.join('\n\n')).toBe(0)
}

describe('reconnect matrix', () => {
  afterAll(closeLeftovers)

  describe('clean close', () => {
    const run = scenario('clean close')

    it('query in flight: rejects CANCELLED', async () => {
      const r = await run()
      expect(codeOf(r.query)).toBe('CANCELLED')
      expect(r.clientState).toBe('closed')
    })

    it('mutation in flight: rejects CANCELLED', async () => {
      expect(codeOf((await run()).mutation)).toBe('CANCELLED')
    })

    it('idempotent mutation in flight: rejects CANCELLED, and ran at most once', async () => {
      const r = await run()
      expect(codeOf(r.idempotent)).toBe('CANCELLED')
      expect(r.runs.idempotent).toBeLessThanOrEqual(1)
    })

    it('subscription: onError with CANCELLED', async () => {
      const r = await run()
      expect(r.subscription.errors.map((e) => e.code)).toEqual(['CANCELLED'])
      expect(r.subscription.completes).toBe(0)
    })

    it('queued call: rejects CANCELLED (made right after close())', async () => {
      const r = await run()
      expect(r.queuedInState).toBe('closed')
      expect(codeOf(r.queued)).toBe('CANCELLED')
      expect(r.runs.fast).toBe(0)
    })

    it('leaves no live generator and no timer behind', async () => {
      expectNothingLeft(await run())
    })
  })

  describe('deploy restart', () => {
    const run = scenario('deploy restart')

    it('query in flight: resolves, finished within the grace period', async () => {
      const r = await run()
      expect(valueOf(r.query)).toBe('query result')
      expect(r.closeCodes[0]).toBe(1012)
      expect(r.log.indexOf('restart')).toBeGreaterThan(r.log.indexOf('failure'))
      expect(r.query.at).toBeLessThan(afterFailure(r, 'close:1012'))
      expect(r.runs.query).toBe(1)
    })

    it('mutation in flight: resolves, finished within the grace period', async () => {
      const r = await run()
      expect(valueOf(r.mutation)).toBe('mutation result')
      expect(r.mutation.at).toBeLessThan(afterFailure(r, 'close:1012'))
      expect(r.runs.mutation).toBe(1)
    })

    it('idempotent mutation in flight: resolves, ran once', async () => {
      const r = await run()
      expect(valueOf(r.idempotent)).toBe('idempotent result')
      expect(r.runs.idempotent).toBe(1)
    })

    it('subscription: resumes on the new server with no gap or duplicate', async () => {
      expectResumed(await run())
    })

    it('queued call: sent after the reconnect, resolves', async () => {
      expectSentAfterReconnect(await run())
    })

    it('leaves no live generator and no timer behind', async () => {
      expectNothingLeft(await run())
    })
  })

  describe('network drop', () => {
    const run = scenario('network drop')

    it('query in flight: re-sent after the reconnect, resolves', async () => {
      const r = await run()
      expect(r.closeCodes[0]).toBe(1006)
      expect(valueOf(r.query)).toBe('query result')
      expect(r.query.at).toBeGreaterThan(afterFailure(r, 'state:open'))
      expect(r.runs.query).toBe(2)
    })

    it('mutation in flight: rejects CONNECTION_LOST, and is not sent again', async () => {
      const r = await run()
      expect(codeOf(r.mutation)).toBe('CONNECTION_LOST')
      expect(r.mutation.at).toBeLessThan(afterFailure(r, 'state:open'))
      expect(r.runs.mutation).toBe(1)
    })

    it('idempotent mutation in flight: re-sent after the reconnect, resolves, ran once', async () => {
      const r = await run()
      expect(valueOf(r.idempotent)).toBe('idempotent result')
      expect(r.idempotent.at).toBeGreaterThan(afterFailure(r, 'state:open'))
      expect(r.runs.idempotent).toBe(1)
    })

    it('subscription: resumes with no gap or duplicate', async () => {
      expectResumed(await run())
    })

    it('queued call: sent after the reconnect, resolves', async () => {
      expectSentAfterReconnect(await run())
    })

    it('leaves no live generator and no timer behind', async () => {
      expectNothingLeft(await run())
    })
  })

  describe('half-open link', () => {
    const run = scenario('half-open link')

    it('query in flight: re-sent once keepAlive detects the dead link, resolves', async () => {
      const r = await run()
      // The client's keepAlive gave up on the silent socket: an abnormal closure, not a close from the peer.
      expect(r.closeCodes[0]).toBe(1006)
      expect(valueOf(r.query)).toBe('query result')
      expect(r.query.at).toBeGreaterThan(afterFailure(r, 'state:open'))
      expect(r.runs.query).toBe(2)
    })

    it('mutation in flight: rejects CONNECTION_LOST once the dead link is detected', async () => {
      const r = await run()
      expect(codeOf(r.mutation)).toBe('CONNECTION_LOST')
      expect(r.mutation.at).toBeGreaterThan(afterFailure(r, 'state:reconnecting'))
      expect(r.mutation.at).toBeLessThan(afterFailure(r, 'state:open'))
      expect(r.runs.mutation).toBe(1)
    })

    it('idempotent mutation in flight: re-sent after detection, resolves, ran once', async () => {
      const r = await run()
      expect(valueOf(r.idempotent)).toBe('idempotent result')
      expect(r.idempotent.at).toBeGreaterThan(afterFailure(r, 'state:open'))
      expect(r.runs.idempotent).toBe(1)
    })

    it('subscription: resumes with no gap or duplicate', async () => {
      expectResumed(await run())
    })

    it('queued call: sent after the reconnect, resolves', async () => {
      expectSentAfterReconnect(await run())
    })

    it('leaves no live generator and no timer behind', async () => {
      expectNothingLeft(await run())
    })
  })

  describe('auth rejected', () => {
    const run = scenario('auth rejected')

    it('query in flight: rejects UNAUTHORIZED', async () => {
      const r = await run()
      expect(codeOf(r.query)).toBe('UNAUTHORIZED')
      expect(r.closeCodes).toEqual([1006, 4401])
      expect(r.clientState).toBe('closed')
      expect(r.clientError?.code).toBe('UNAUTHORIZED')
    })

    it('mutation in flight: rejects CONNECTION_LOST at the drop', async () => {
      const r = await run()
      expect(codeOf(r.mutation)).toBe('CONNECTION_LOST')
      expect(r.mutation.at).toBeLessThan(afterFailure(r, 'state:closed'))
      expect(r.runs.mutation).toBe(1)
    })

    it('idempotent mutation in flight: rejects UNAUTHORIZED, and ran at most once', async () => {
      const r = await run()
      expect(codeOf(r.idempotent)).toBe('UNAUTHORIZED')
      expect(r.runs.idempotent).toBeLessThanOrEqual(1)
    })

    it('subscription: onError with UNAUTHORIZED', async () => {
      const r = await run()
      expect(r.subscription.errors.map((e) => e.code)).toEqual(['UNAUTHORIZED'])
      expect(r.resubscribedWith).toEqual([])
    })

    it('queued call: rejects UNAUTHORIZED', async () => {
      const r = await run()
      expect(r.queuedInState).toBe('reconnecting')
      expect(codeOf(r.queued)).toBe('UNAUTHORIZED')
      expect(r.runs.fast).toBe(0)
    })

    it('leaves no live generator and no timer behind', async () => {
      expectNothingLeft(await run())
    })
  })

  describe('server gone for good', () => {
    const run = scenario('server gone for good')

    it('query in flight: rejects CONNECTION_LOST when the retries run out, before its timeoutMs', async () => {
      const r = await run()
      expect(codeOf(r.query)).toBe('CONNECTION_LOST')
      expect(r.query.at).toBeGreaterThan(afterFailure(r, 'state:closed'))
      expect(r.query.elapsedMs).toBeLessThan(CALL_TIMEOUT_MS)
      expect(r.log.filter((entry) => entry === 'reconnect')).toHaveLength(GONE_MAX_RETRIES)
      expect(r.clientState).toBe('closed')
      expect(r.clientError?.code).toBe('CONNECTION_LOST')
    })

    it('mutation in flight: rejects CONNECTION_LOST at the drop', async () => {
      const r = await run()
      expect(codeOf(r.mutation)).toBe('CONNECTION_LOST')
      expect(r.mutation.at).toBeLessThan(afterFailure(r, 'state:closed'))
      expect(r.runs.mutation).toBe(1)
    })

    it('idempotent mutation in flight: rejects CONNECTION_LOST when the retries run out, and ran at most once', async () => {
      const r = await run()
      expect(codeOf(r.idempotent)).toBe('CONNECTION_LOST')
      expect(r.idempotent.at).toBeGreaterThan(afterFailure(r, 'state:closed'))
      expect(r.idempotent.elapsedMs).toBeLessThan(CALL_TIMEOUT_MS)
      expect(r.runs.idempotent).toBeLessThanOrEqual(1)
    })

    it('subscription: onError with CONNECTION_LOST when the retries run out', async () => {
      const r = await run()
      expect(r.subscription.errors.map((e) => e.code)).toEqual(['CONNECTION_LOST'])
      expect(r.log.indexOf('subscription:error')).toBeGreaterThan(afterFailure(r, 'state:closed'))
    })

    it('queued call: rejects CONNECTION_LOST when the retries run out, before its timeoutMs', async () => {
      const r = await run()
      expect(r.queuedInState).toBe('reconnecting')
      expect(codeOf(r.queued)).toBe('CONNECTION_LOST')
      expect(r.queued.at).toBeGreaterThan(afterFailure(r, 'state:closed'))
      expect(r.queued.elapsedMs).toBeLessThan(CALL_TIMEOUT_MS)
      expect(r.runs.fast).toBe(0)
    })

    it('leaves no live generator and no timer behind', async () => {
      expectNothingLeft(await run())
    })

    it('calls in flight or queued, while the client keeps retrying (no maxRetries): reject TIMEOUT at their timeoutMs', async () => {
      const rpc = initRpc.create()
      let idempotentRuns = 0
      const router = rpc.router({
        slow: rpc.procedure.query(({ signal }) => sleep(5_000, signal)),
        place: rpc.procedure.mutation(async ({ signal }) => {
          idempotentRuns++
          await sleep(5_000, signal)
        }),
        fast: rpc.procedure.query(() => 'fast'),
      })
      const { url, server } = await startServer({ router })
      const api = connectClient<typeof router>(url, { reconnect: { minDelayMs: 20, maxDelayMs: 50 } })
      await api.fast.query()
      const timeoutMs = 400
      const started = Date.now()
      const query = api.slow.query(undefined, { timeoutMs }).catch((e: unknown) => e)
      const idempotent = api.place.mutate(undefined, { idempotent: true, timeoutMs }).catch((e: unknown) => e)
      await waitUntil(() => idempotentRuns === 1, 'the calls to run on the server')
      await server.close()
      await waitUntil(() => api.$connection.state === 'reconnecting', 'the client to reconnect')
      const queued = api.fast.query(undefined, { timeoutMs }).catch((e: unknown) => e)
      for (const outcome of await Promise.all([query, idempotent, queued])) {
        expect(isRpcError(outcome) && outcome.code).toBe('TIMEOUT')
      }
      expect(Date.now() - started).toBeLessThan(timeoutMs + 2_000)
      expect(api.$connection.state).toBe('reconnecting') // still trying: only the calls gave up
      expect(idempotentRuns).toBe(1)
    })
  })
})
