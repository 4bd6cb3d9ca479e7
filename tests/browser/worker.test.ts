import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createChannel } from '@wirecall/server'
import { startServer } from '../helpers/harness'
import { EXPECTED_RICH } from './expected'
import type { ProbeConfig, ScenarioReport } from './fixtures/probe'
import { createTestRouter, eventDate, type FeedEvent } from './fixtures/router'
import { bundleForBrowser, openPage, serveStatic, useChromium } from './launch'

/**
 * The client in a dedicated Web Worker in Chromium: no `document`, no
 * `window`, only the worker's global WebSocket. The worker script
 * (fixtures/worker.ts, bundled from the packages' sources) runs the whole
 * scenario and posts its report to the page.
 */

declare global {
  interface Window {
    /** What the worker posted: its report, or its error. */
    workerResult?: Promise<{ ok: true; report: ScenarioReport } | { ok: false; error: string }>
  }
}

const browser = useChromium()
const workerScript = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url))

// Starts the worker with the page's own query string (the config), and keeps what it posts.
const page = `<!doctype html><meta charset="utf-8"><title>worker</title><script type="module">
const worker = new Worker('/worker.js' + location.search, { type: 'module' })
window.workerResult = new Promise((resolve) => {
  worker.onmessage = (event) => resolve(event.data)
  worker.onerror = (event) => resolve({ ok: false, error: 'worker error: ' + event.message })
})
</script>`

describe('the client in a Web Worker', () => {
  it('calls, subscribes and closes with the worker global WebSocket', async () => {
    const site = await serveStatic({ '/': page, '/worker.js': await bundleForBrowser(workerScript) })
    const feed = createChannel<FeedEvent>({ history: 10 })
    const { url } = await startServer({ router: createTestRouter(feed) })
    const query = encodeURIComponent(JSON.stringify({ url } satisfies ProbeConfig))
    const { page: tab, problems, sockets } = await openPage(browser(), `${site.httpUrl}/?config=${query}`)

    const result = await tab.evaluate(() => window.workerResult!)
    if (!result.ok) throw new Error(result.error)
    const { report } = result
    expect(report.globalWebSocket).toBe('function')
    expect(report.hasDocument).toBe(false)
    expect(report.rich).toEqual(EXPECTED_RICH)
    expect(report.total).toBe('bigint:42')
    expect(report.error).toEqual({ isRpcError: true, code: 'NOT_FOUND', message: 'no item nope' })
    expect(report.feed.ns).toEqual([1, 2, 3])
    expect(report.feed.ats).toEqual([1, 2, 3].map((n) => eventDate(n).toISOString()))
    expect(new Set(report.feed.ids).size).toBe(3)
    expect(report.feed.ids.at(-1)).toBe(feed.lastEventId)
    expect(report.states).toEqual(['connecting', 'open', 'closed'])
    expect(sockets).toEqual([url])
    expect(problems).toEqual([])
  })
})
