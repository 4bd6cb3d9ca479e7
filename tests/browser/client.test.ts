import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { createChannel, type Channel, type RpcServer } from '@wirecall/server'
import { sleep } from '../helpers/harness'
import { bundleForBrowser, isFailedDial, modulePage, openPage, serveStatic, useChromium, type OpenedPage } from './launch'
import { EXPECTED_RICH } from './expected'
import type { ProbeConfig } from './fixtures/probe'
import { eventDate, type FeedEvent } from './fixtures/router'
import { startRpc, type RpcHandle } from './test-server'

/**
 * The client in real Chromium, on the browser's own WebSocket (the page
 * passes no `WebSocket` option). The page script is tests/browser/fixtures/
 * page.ts, bundled by esbuild from the packages' sources; it exposes the
 * client's record as `window.probe`. Each test gets its own wirecall server
 * on 127.0.0.1, its own static server for the page, and its own browser
 * context; one Chromium serves the whole file.
 */

const browser = useChromium()
const pageScript = fileURLToPath(new URL('./fixtures/page.ts', import.meta.url))

interface Setup extends OpenedPage {
  feed: Channel<FeedEvent>
  rpc: RpcHandle
}

/**
 * Starts a server and a page whose client uses `config` (on top of the
 * server's URL), and waits until the client is open and its subscription
 * has started.
 */
async function setup(config: Omit<ProbeConfig, 'url'> = {}): Promise<Setup> {
  // Started first, so it is closed last: the page goes first, then the wirecall server.
  const site = await serveStatic({ '/': modulePage('/page.js'), '/page.js': await bundleForBrowser(pageScript) })
  const feed = createChannel<FeedEvent>({ history: 100 })
  const rpc = await startRpc(feed)
  const query = encodeURIComponent(JSON.stringify({ ...config, url: rpc.url } satisfies ProbeConfig))
  const opened = await openPage(browser(), `${site.httpUrl}/?config=${query}`)
  await until(opened.page, () => window.probe?.state() === 'open' && window.probe.feed.starts === 1, 'the client to open and subscribe')
  return { ...opened, feed, rpc }
}

/** Waits until `predicate` holds in the page (polled every 20 ms). */
async function until(page: Page, predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  try {
    await page.waitForFunction(predicate, undefined, { polling: 20, timeout: timeoutMs })
  } catch (error) {
    const seen = await page.evaluate(() => ({ states: window.probe?.states, events: window.probe?.events, feed: window.probe?.feed }))
    throw new Error(`timed out waiting for ${what}; the page's record: ${JSON.stringify(seen)}`, { cause: error })
  }
}

/** Publishes events `from..to` (inclusive) from the test; returns their ids in order. */
function publish(feed: Channel<FeedEvent>, from: number, to: number): string[] {
  const ids: string[] = []
  for (let n = from; n <= to; n++) ids.push(feed.publish({ n, at: eventDate(n) }))
  return ids
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/**
 * Headless Chromium never hides a page (minimising its window, activating
 * another tab and freezing it were all tried: `visibilityState` stays
 * 'visible'). So the state is overridden on `document` and a real
 * `visibilitychange` event dispatched, which is what the client listens to.
 */
function setVisibility(page: Page, state: 'hidden' | 'visible'): Promise<void> {
  return page.evaluate((state) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state })
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => state === 'hidden' })
    document.dispatchEvent(new Event('visibilitychange'))
  }, state)
}

/** The page's record: states, events and the feed log (plain data, without the probe's methods). */
const record = (page: Page) => page.evaluate(() => ({ states: window.probe!.states, events: window.probe!.events, feed: window.probe!.feed }))

const events = (page: Page, type: string) => page.evaluate((type) => window.probe!.events.filter((e) => e.type === type), type)

describe('the client in Chromium', () => {
  it("makes typed calls with rich types over the browser's own WebSocket", async () => {
    const { page, problems, sockets, rpc } = await setup()
    // The page's WebSocket is the browser's, not a polyfill.
    expect(await page.evaluate(() => Function.prototype.toString.call(WebSocket))).toContain('[native code]')

    expect(await page.evaluate(() => window.probe!.rich())).toEqual(EXPECTED_RICH)
    expect(await page.evaluate(() => window.probe!.add(40))).toBe('bigint:40')
    expect(await page.evaluate(() => window.probe!.add(2))).toBe('bigint:42')
    expect(await page.evaluate(() => window.probe!.missing())).toEqual({ isRpcError: true, code: 'NOT_FOUND', message: 'no item nope' })

    expect(sockets).toEqual([rpc.url]) // every call and the subscription on one socket
    expect(await page.evaluate(() => window.probe!.states)).toEqual(['connecting', 'open'])
    expect(problems).toEqual([])
  })

  it('receives subscription events with their tracked ids and rich types', async () => {
    const { page, problems, feed } = await setup()
    const ids = publish(feed, 1, 5)
    ids.push(await page.evaluate(() => window.probe!.publish(6))) // published by the page, through a mutation
    await until(page, () => window.probe!.feed.ns.length >= 6, 'six events')
    const log = await page.evaluate(() => window.probe!.feed)
    expect(log).toEqual({
      ns: range(1, 6),
      ids,
      ats: range(1, 6).map((n) => eventDate(n).toISOString()),
      starts: 1,
      resyncs: 0,
      errors: [],
    })
    expect(problems).toEqual([])
  })

  /**
   * Events 1-3 reach the page, the server goes away, 4-6 are published
   * while it is down, a new server starts on the same port, 7-9 follow:
   * the page must see 1-9 once each, in order.
   */
  async function restartScenario(close: (server: RpcServer) => Promise<void>, announced: boolean): Promise<void> {
    const { page, problems, sockets, feed, rpc } = await setup({ reconnect: { minDelayMs: 50, maxDelayMs: 300 } })
    const ids = publish(feed, 1, 3)
    await until(page, () => window.probe!.feed.ns.length === 3, 'the first three events')

    await close(rpc.server)
    ids.push(...publish(feed, 4, 6)) // while no server is up: the next one must replay these
    await until(page, () => window.probe!.state() === 'reconnecting', "the page's client to notice")
    await sleep(100)
    await startRpc(feed, rpc.port)
    await until(page, () => window.probe!.state() === 'open' && window.probe!.feed.starts === 2, 'the client to reopen and resubscribe')
    ids.push(...publish(feed, 7, 9))
    await until(page, () => window.probe!.feed.ns.length >= 9, 'all nine events')

    const { states, feed: log, events } = await record(page)
    expect(log.ns).toEqual(range(1, 9)) // no gap, no duplicate
    expect(log.ids).toEqual(ids)
    expect(log.resyncs).toBe(0)
    expect(log.errors).toEqual([])
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'open']) // failed dials while the server is down change no state
    expect(events.some((e) => e.type === 'restart')).toBe(announced) // a graceful close tells the client when to come back
    expect(events.filter((e) => e.type === 'resubscribe').map((e) => e.detail)).toEqual([`feed:${ids[2]}`])
    expect(await page.evaluate(() => window.probe!.add(1))).toBe('bigint:1') // calls work on the new server
    expect(sockets.length).toBeGreaterThanOrEqual(2)
    expect(sockets.every((url) => url === rpc.url)).toBe(true)
    // While the server was down, Chromium logs each refused dial by itself; nothing else may appear.
    expect(problems.filter((p) => !isFailedDial(p))).toEqual([])
  }

  it('survives a graceful server restart on the same port: reconnecting, open, resubscribed with no gap', () =>
    restartScenario((server) => server.close({ graceMs: 1_000, reconnectWindowMs: 200 }), true))

  it('survives an abrupt server restart on the same port: reconnecting, open, resubscribed with no gap', () =>
    restartScenario((server) => server.close(), false))

  it('dials nothing while offline, and reconnects as soon as the browser is back online', async () => {
    // No routine pings (intervalMs), but a probe ping that must be answered within 500 ms.
    const { page, context, problems, sockets, feed } = await setup({
      reconnect: { minDelayMs: 100, maxDelayMs: 100 },
      keepAlive: { intervalMs: 60_000, timeoutMs: 500 },
    })
    await context.setOffline(true)
    // The `offline` event makes the client ping; offline Chromium holds the ping, so the link is found dead.
    await until(page, () => window.probe!.state() === 'reconnecting', 'the offline client to drop its dead link')
    const ids = publish(feed, 1, 2)
    await sleep(1_000) // ten times the longest backoff: a client that ignored `offline` would have dialled, and failed, several times
    expect(await page.evaluate(() => window.probe!.state())).toBe('reconnecting')
    expect(sockets).toHaveLength(1)
    expect(await events(page, 'reconnect')).toHaveLength(1) // scheduled once, never run

    await context.setOffline(false)
    await until(page, () => window.probe!.state() === 'open' && window.probe!.feed.ns.length >= 2, 'the client to reopen and catch up', 5_000)
    const seen = await record(page)
    const online = seen.events.find((e) => e.type === 'online')!
    const open = seen.events.filter((e) => e.type === 'state' && e.detail === 'open').at(-1)!
    const offline = seen.events.find((e) => e.type === 'offline')!
    expect(offline).toBeDefined()
    expect(online.at).toBeGreaterThan(offline.at)
    // Nothing but the `online` event could have woken it: its backoff timer had already fired (and was ignored) while offline.
    expect(open.at).toBeGreaterThan(online.at)
    expect(open.at - online.at).toBeLessThan(3_000)
    expect(seen.feed.ids).toEqual(ids)
    expect(seen.feed.ns).toEqual([1, 2])
    expect(sockets).toHaveLength(2)
    expect(problems).toEqual([]) // no failed dial: Chromium logs one for every WebSocket attempted while offline
  })

  it('pings an open connection when the page becomes visible again', async () => {
    const { page, problems } = await setup({ keepAlive: { intervalMs: 60_000, timeoutMs: 5_000 } })
    await setVisibility(page, 'hidden')
    await sleep(100)
    expect(await events(page, 'pong')).toHaveLength(0) // hiding does nothing; no routine ping is due for a minute
    await setVisibility(page, 'visible')
    await until(page, () => window.probe!.events.some((e) => e.type === 'pong'), 'the ping the visible page sends to be answered')
    expect(await page.evaluate(() => window.probe!.state())).toBe('open')
    expect(problems).toEqual([])
  })

  it('reconnects at once, whatever the backoff said, when the page becomes visible again', async () => {
    // A backoff of up to ten minutes: only the page coming back can bring the client back within the test.
    const { page, problems, feed, rpc } = await setup({ reconnect: { minDelayMs: 600_000, maxDelayMs: 600_000 } })
    let delayMs = 0
    for (let drop = 1; ; drop++) {
      await setVisibility(page, 'hidden')
      const before = (await events(page, 'reconnect')).length
      await rpc.server.close()
      await until(page, () => window.probe!.state() === 'reconnecting', 'the client to notice the drop')
      rpc.server = (await startRpc(feed, rpc.port)).server
      await sleep(200)
      const scheduled = (await events(page, 'reconnect')).slice(before)
      delayMs = Number(scheduled.at(-1)!.detail!.split(':')[1])
      // One drop in about 3 000 gets a wait short enough to reconnect unaided by now; drop it again.
      if ((await page.evaluate(() => window.probe!.state())) === 'reconnecting') break
      if (drop === 3) throw new Error('the client reconnected early after three drops in a row: its backoff is not honoured')
    }
    const shownAt = Date.now()
    await setVisibility(page, 'visible')
    await until(page, () => window.probe!.state() === 'open', 'the visible page to reconnect', 5_000)
    expect(Date.now() - shownAt).toBeLessThan(delayMs)
    const ids = publish(feed, 1, 1)
    await until(page, () => window.probe!.feed.ns.length === 1, 'an event on the resumed subscription')
    expect(await page.evaluate(() => window.probe!.feed.ids)).toEqual(ids)
    expect(problems.filter((p) => !isFailedDial(p))).toEqual([])
  })
})
