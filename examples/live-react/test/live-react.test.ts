import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket from 'ws'
import { createRpcClient, isResync } from '@wirecall/client'
import { sleep, waitUntil, within } from '../../../tests/helpers/harness'
import { RECENT_MESSAGES } from '../src/message-store'
import type { AppRouter } from '../src/router'
import { startLiveChat, type LiveChat } from '../src/server'

/**
 * examples/live-react from Node: what its README says the server does. The
 * page itself runs in Chromium in live-react.browser.test.ts.
 */

const host = '127.0.0.1'

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wirecall-live-react-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function start(options: { port?: number; dataDir?: string } = {}): Promise<LiveChat> {
  const app = await startLiveChat({ port: options.port ?? 0, host, dataDir: options.dataDir })
  onTestFinished(() => app.close())
  return app
}

function client(url: string, name = 'ada') {
  const api = createRpcClient<AppRouter>({ url, WebSocket, connectionParams: { name }, reconnect: { minDelayMs: 20, maxDelayMs: 100 } })
  onTestFinished(() => api.$connection.close())
  return api
}

describe('examples/live-react', () => {
  it('serves the page and its React bundle on the RPC port', async () => {
    const app = await start()
    const html = await (await fetch(app.url)).text()
    expect(html).toContain('<div id="root"></div>')
    expect(html).toContain('<script type="module" src="/app.js">')
    const script = await fetch(new URL('/app.js', app.url))
    expect(script.headers.get('content-type')).toMatch(/javascript/)
    const code = await script.text()
    expect(code).toContain('useSyncExternalStore') // React is in it
    expect(code).not.toMatch(/from\s*["']node:|process\.env/)
    expect((await fetch(new URL('/nope', app.url))).status).toBe(404)
  })

  it('refuses a connection without a valid name', async () => {
    const app = await start()
    const api = client(app.rpcUrl, '')
    await waitUntil(() => api.$connection.state === 'closed', 'the refusal')
    expect(api.$connection.error?.code).toBe('UNAUTHORIZED')
  })

  it('keeps messages on disk: a new process resumes a feed after its last id, and an idempotency key posts once', async () => {
    const dir = dataDir()
    let app = await start({ dataDir: dir })
    const port = Number(new URL(app.url).port)
    const api = client(app.rpcUrl)
    const first = await api.messages.send.mutate({ text: 'one' }, { idempotencyKey: 'k1' })
    expect(first).toMatchObject({ id: 1, from: 'ada', text: 'one' })
    await app.close()

    app = await start({ port, dataDir: dir })
    const again = client(app.rpcUrl, 'bob')
    await again.messages.send.mutate({ text: 'two' })
    // The same key after the restart: the log knows it, nothing is posted twice.
    expect(await again.messages.send.mutate({ text: 'one' }, { idempotencyKey: 'k1' })).toMatchObject({ id: 1, text: 'one' })
    const seen: string[] = []
    const feed = again.messages.feed.subscribe(undefined, { lastEventId: '1', onData: (m) => seen.push(`${m.id} ${m.from}: ${m.text}`) })
    onTestFinished(() => feed.unsubscribe())
    await waitUntil(() => seen.length === 1, 'the replay')
    expect(seen).toEqual(['2 bob: two'])
  })

  it('a fresh subscriber gets the newest messages; an unknown id gets a resync first', async () => {
    const app = await start()
    const api = client(app.rpcUrl)
    for (let i = 1; i <= RECENT_MESSAGES + 5; i++) app.store.append('ada', `m${i}`, undefined)
    const events: unknown[] = []
    const loop = (async () => {
      for await (const event of api.messages.feed.subscribe(undefined, { lastEventId: '999999' })) {
        events.push(isResync(event) ? 'resync' : event.id)
        if (events.length === RECENT_MESSAGES + 1) break
      }
    })()
    await within(loop, 'the feed')
    expect(events[0]).toBe('resync')
    expect(events[1]).toBe(6)
    expect(events.at(-1)).toBe(RECENT_MESSAGES + 5)
  })

  it('counts who is online, and shows who is typing until it expires or is cleared', async () => {
    const app = await start()
    const ada = client(app.rpcUrl, 'ada')
    const bob = client(app.rpcUrl, 'bob')
    const counts: number[] = []
    const online = ada.online.subscribe(undefined, { onData: (n) => counts.push(n) })
    onTestFinished(() => online.unsubscribe())
    await waitUntil(() => counts.at(-1) === 1, 'one online')
    const bobOnline = bob.online.subscribe(undefined, { onData: () => {} })
    await waitUntil(() => counts.at(-1) === 2, 'two online')
    bobOnline.unsubscribe()
    await waitUntil(() => counts.at(-1) === 1, 'back to one')

    const typing: string[][] = []
    const feed = ada.typing.feed.subscribe(undefined, { onData: (who) => typing.push(who) })
    onTestFinished(() => feed.unsubscribe())
    await waitUntil(() => typing.length === 1, 'the list now')
    await bob.typing.set.mutate({ typing: true })
    await waitUntil(() => typing.at(-1)?.join() === 'bob', 'bob typing')
    await bob.typing.set.mutate({ typing: false })
    await waitUntil(() => typing.at(-1)?.length === 0, 'nobody typing')
    await sleep(10)
    expect(typing).toEqual([[], ['bob'], []])
  })
})
