import { onTestFinished, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createRpcClient, type RpcError } from '@wirecall/client'
import { sleep, waitUntil, within } from '../../../tests/helpers/harness'
import { MAX_REPLAY_TICKS, parseTickId, type AppRouter } from '../src/router'
import { startTicker, type Ticker } from '../src/server'

const TICK_MS = 50
const host = '127.0.0.1'

/** Starts a ticker, closed after the test. Port 0 picks a free port. */
async function ticker(port = 0): Promise<Ticker> {
  const app = await startTicker({ port, host, tickMs: TICK_MS })
  onTestFinished(() => app.close())
  return app
}

/** Starts a ticker on `port` again, retrying briefly while the old one lets go of it. */
async function restartOn(port: number): Promise<Ticker> {
  const deadline = Date.now() + 2_000
  for (;;) {
    try {
      return await ticker(port)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() > deadline) throw error
      await sleep(20)
    }
  }
}

function client(url: string) {
  const api = createRpcClient<AppRouter>({ url, WebSocket, reconnect: { minDelayMs: 20, maxDelayMs: 200 } })
  onTestFinished(() => api.$connection.close())
  return api
}

/** Subscribes (handler form) and records everything the subscription reports. */
function follow(api: ReturnType<typeof client>, lastEventId?: string) {
  const log = { ticks: [] as number[], ats: [] as Date[], resyncs: 0, errors: [] as RpcError[], started: false }
  const sub = api.ticks.subscribe(undefined, {
    lastEventId,
    onStarted: () => {
      log.started = true
    },
    onData: (tick) => {
      log.ticks.push(tick.n)
      log.ats.push(tick.at)
    },
    onResync: () => log.resyncs++,
    onError: (error) => log.errors.push(error),
  })
  onTestFinished(() => sub.unsubscribe())
  return { sub, log }
}

const currentTick = () => Math.floor(Date.now() / TICK_MS)

/** Fails unless `ticks` go up by exactly one each: no gap, no duplicate. */
function expectContiguous(ticks: number[]): void {
  expect(ticks.length).toBeGreaterThan(0)
  const expected = Array.from({ length: ticks.length }, (_, i) => ticks[0]! + i)
  expect(ticks).toEqual(expected)
}

describe('examples/ticker', () => {
  it('serves the page and its bundled script on the RPC port', async () => {
    const app = await ticker()
    const page = await fetch(app.url)
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('<script type="module" src="/app.js">')
    expect(html).toContain('id="state"')
    const script = await fetch(new URL('/app.js', app.url))
    expect(script.status).toBe(200)
    expect(script.headers.get('content-type')).toMatch(/javascript/)
    const code = await script.text()
    expect(code.length).toBeGreaterThan(1_000)
    expect(code).not.toMatch(/from\s*["']node:/) // bundled for the browser: no Node imports left
    expect((await fetch(new URL('/nope', app.url))).status).toBe(404)
  })

  it('pushes contiguous ticks, each stamped with its own boundary', async () => {
    const app = await ticker()
    const api = client(app.rpcUrl)
    const { log } = follow(api)
    await waitUntil(() => log.ticks.length >= 5, 'five ticks')
    expectContiguous(log.ticks)
    log.ats.forEach((at, i) => expect(at.getTime()).toBe(log.ticks[i]! * TICK_MS))
    expect(log.resyncs).toBe(0)
    expect(log.errors).toEqual([])
    expect(api.$connection.state).toBe('open')
  })

  it('tells a fresh subscriber its position before the first tick, so it can resume from there', async () => {
    const app = await startTicker({ port: 0, host, tickMs: 60_000 }) // no tick during the test
    onTestFinished(() => app.close())
    const api = client(app.rpcUrl)
    const before = Math.floor(Date.now() / 60_000)
    const { sub, log } = follow(api)
    await waitUntil(() => log.started, 'the subscription to start')
    expect(log.ticks).toEqual([])
    const position = Number(sub.lastEventId)
    expect(position === before || position === before + 1).toBe(true)
  })

  it('replays the ticks a returning subscriber missed, then goes on live', async () => {
    const app = await ticker()
    const api = client(app.rpcUrl)
    const first = follow(api)
    await waitUntil(() => first.log.ticks.length >= 3, 'three ticks')
    first.sub.unsubscribe()
    const lastSeen = first.sub.lastEventId
    expect(lastSeen).toBe(String(first.log.ticks.at(-1)))
    await sleep(TICK_MS * 6) // miss a few

    const resumeAt = currentTick()
    const second = follow(api, lastSeen)
    await waitUntil(() => (second.log.ticks.at(-1) ?? 0) >= resumeAt + 2, 'the replay and two live ticks')
    expect(second.log.ticks[0]).toBe(Number(lastSeen) + 1)
    expectContiguous([...first.log.ticks, ...second.log.ticks])
    expect(second.log.resyncs).toBe(0)
  })

  it('sends a resync, then ticks from now, for an id it cannot replay', async () => {
    const app = await ticker()
    const api = client(app.rpcUrl)
    const tooOld = follow(api, String(currentTick() - MAX_REPLAY_TICKS - 10))
    const garbage = follow(api, 'not-a-tick')
    await waitUntil(() => tooOld.log.ticks.length >= 2 && garbage.log.ticks.length >= 2, 'ticks after the resyncs')
    for (const { log } of [tooOld, garbage]) {
      expect(log.resyncs).toBe(1)
      expect(log.ticks[0]).toBeGreaterThanOrEqual(currentTick() - 3) // from now, not a replay of the old window
      expectContiguous(log.ticks)
    }
  })

  it('parses only tick numbers within the replay window', () => {
    expect(parseTickId(undefined, 5_000)).toBeUndefined()
    expect(parseTickId('4990', 5_000)).toBe(4_990)
    expect(parseTickId('5003', 5_000)).toBe(5_003) // a clock slightly ahead: wait for the tick after it
    expect(parseTickId(String(5_000 - MAX_REPLAY_TICKS), 5_000)).toBe(5_000 - MAX_REPLAY_TICKS)
    expect(parseTickId(String(5_000 - MAX_REPLAY_TICKS - 1), 5_000)).toBeUndefined()
    for (const bad of ['', '-1', '1.5', '1e3', ' 4999', '99999999999999999999', 'k3x9q2ab.41']) {
      expect(parseTickId(bad, 5_000)).toBeUndefined()
    }
  })

  // Needs automatic reconnect (spec4): the client resubscribes with its lastEventId after each restart.
  it('misses no tick across two graceful restarts on the same port', async () => {
    let app = await ticker()
    const port = Number(new URL(app.url).port)
    const api = client(app.rpcUrl)
    const states: string[] = []
    let reconnects = 0
    api.$connection.on('state', (state) => states.push(state))
    api.$connection.on('reconnect', () => reconnects++)
    const { log } = follow(api)
    await waitUntil(() => log.ticks.length >= 3, 'the first ticks')
    expectContiguous(log.ticks)

    for (const round of [1, 2]) {
      await within(app.close({ graceMs: 500, reconnectWindowMs: 200 }), `graceful close #${round}`, 5_000)
      const down = currentTick()
      await sleep(TICK_MS * 4) // stay away a few ticks, so the new server has ticks to replay
      app = await restartOn(port)
      const back = currentTick()
      await waitUntil(
        () => api.$connection.state === 'open' && (log.ticks.at(-1) ?? 0) >= back + 2,
        `ticks flowing again after restart #${round}`,
        5_000,
      )
      expect(log.ticks).toContain(down + 2) // due while no server was up: replayed by the new one
    }

    expect(log.errors).toEqual([])
    expect(log.resyncs).toBe(0)
    expectContiguous(log.ticks)
    expect(states).toContain('reconnecting')
    expect(reconnects).toBeGreaterThanOrEqual(2)
  })
})
