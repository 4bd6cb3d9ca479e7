import { expect } from 'vitest'
import { createChannel } from '@wirecall/server'
import { EXPECTED_RICH } from '../browser/expected'
import { eventDate, type FeedEvent } from '../browser/fixtures/router'
import { startChild } from './child'
import { requireBuild } from './runtimes'
import { startRpc } from '../browser/test-server'

/**
 * The test's side of fixtures/scenario.mjs: a real wirecall server in this
 * process (Node 20, on 127.0.0.1), a client in a child runtime, and a
 * server restart on the same port while the client holds a resumable
 * subscription. Shared by node.test.ts, deno.test.ts and bun.test.ts.
 */

/** What fixtures/scenario.mjs reports at its end. */
export interface ClientReport {
  resolved: string
  globalWebSocket: string
  passedWebSocket: boolean
  rich: typeof EXPECTED_RICH
  total: string
  afterRestart: string
  error: { isRpcError: boolean; code: string; message: string }
  published: string[]
  feed: { ns: number[]; ids: string[]; ats: string[]; starts: number; resyncs: number; errors: string[] }
  resubscribes: string[]
  states: string[]
}

/**
 * Runs `command args` (a runtime and fixtures/client.mjs or client-ws.mjs)
 * against a server of this process: typed calls and events 1-3, then the
 * server stops, events 4-5 are published while it is down, a new server
 * starts on the same port, and the client must come back, resume with 4-5
 * and receive 6 live. Asserts everything the script reports, and that the
 * script exits by itself with 0 once its client is closed.
 */
export async function clientScenario(command: string, args: string[], expectWebSocket: { global: boolean; passed: boolean }): Promise<ClientReport> {
  requireBuild('client')
  const feed = createChannel<FeedEvent>({ history: 10 })
  const first = await startRpc(feed)
  const child = startChild(command, args, { RPC_URL: first.url })

  const subscribed = await child.next((m) => m.step === 'subscribed', 'typed calls and events 1-3')
  await first.server.close()
  const missed = [4, 5].map((n) => feed.publish({ n, at: eventDate(n) })) // no server is up: the next one replays these
  await child.next((m) => m.step === 'state' && m.state === 'reconnecting', 'the client to notice the server has gone')
  await startRpc(feed, first.port)
  const done = await child.next((m) => m.step === 'done', 'the client to reconnect, resume and receive event 6')
  const exit = await child.exited()
  expect(exit, child.output()).toEqual({ code: 0, signal: null })

  const report = done.report as ClientReport
  const ids = [...(subscribed.ids as string[]), ...missed, report.published.at(-1)]
  expect(report.resolved).toMatch(/\/packages\/client\/dist\/index\.js$/) // the built package, imported by name
  expect(report.globalWebSocket).toBe(expectWebSocket.global ? 'function' : 'undefined')
  expect(report.passedWebSocket).toBe(expectWebSocket.passed)
  expect(report.rich).toEqual(EXPECTED_RICH)
  expect(report.total).toBe('bigint:42')
  expect(report.afterRestart).toBe('bigint:1') // answered by the new server, whose router's total starts at 0
  expect(report.error).toEqual({ isRpcError: true, code: 'NOT_FOUND', message: 'no item nope' })
  expect(report.feed.ns).toEqual([1, 2, 3, 4, 5, 6]) // 4-5 replayed from the channel's history: no gap, no duplicate
  expect(report.feed.ids).toEqual(ids)
  expect(report.feed.ats).toEqual([1, 2, 3, 4, 5, 6].map((n) => eventDate(n).toISOString()))
  expect(report.feed).toMatchObject({ starts: 2, resyncs: 0, errors: [] })
  expect(report.resubscribes).toEqual([`feed:${ids[2]}`]) // resumed after event 3
  expect(report.states).toEqual(['connecting', 'open', 'reconnecting', 'open', 'closed'])
  return report
}
