import { onTestFinished, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createRpcClient, type RpcError, type ValidationErrorData } from '@wirecall/client'
import { rpcErrorOf, sleep, waitUntil } from '../../../tests/helpers/harness'
import { parseDrawId, type AppRouter } from '../src/router'
import { judge } from '../src/rule'
import { startAdmission, type Admission } from '../src/server'

/** The 30 lucky numbers from 1 to 100, written out by hand rather than computed with the rule under test. */
const LUCKY = [7, 14, 17, 21, 27, 28, 35, 37, 42, 47, 49, 56, 57, 63, 67, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 84, 87, 91, 97, 98]

/** Starts the gate on 127.0.0.1 and a free port; closed after the test. */
async function admission(draw?: () => number): Promise<Admission> {
  const app = await startAdmission({ port: 0, host: '127.0.0.1', ...(draw === undefined ? {} : { draw }) })
  onTestFinished(() => app.close())
  return app
}

function client(url: string) {
  const api = createRpcClient<AppRouter>({ url, WebSocket })
  onTestFinished(() => api.$connection.close())
  return api
}

/** Draws `values` in turn, round and round. */
function sequence(values: number[]): () => number {
  let i = 0
  return () => values[i++ % values.length]!
}

describe('examples/admission', () => {
  it('serves the page and its bundled script on the RPC port', async () => {
    const app = await admission()
    const page = await fetch(app.url)
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('<script type="module" src="/app.js">')
    for (const id of ['state', 'check', 'number', 'verdict', 'every', 'start', 'stop', 'draws']) expect(html).toContain(`id="${id}"`)
    const script = await fetch(new URL('/app.js', app.url))
    expect(script.status).toBe(200)
    expect(script.headers.get('content-type')).toMatch(/javascript/)
    const code = await script.text()
    expect(code.length).toBeGreaterThan(1_000)
    expect(code).not.toMatch(/from\s*["']node:/) // only the router's type reached the page, not its Node imports
    expect((await fetch(new URL('/nope', app.url))).status).toBe(404)
  })

  it('admits exactly the lucky numbers, with the reason', async () => {
    const app = await admission()
    const api = client(app.rpcUrl)
    await expect(api.check.query({ number: 77 })).resolves.toEqual({
      number: 77,
      admitted: true,
      reason: '77 is divisible by 7 (7 × 11) and contains a 7',
    })
    await expect(api.check.query({ number: 14 })).resolves.toEqual({ number: 14, admitted: true, reason: '14 is divisible by 7 (7 × 2)' })
    await expect(api.check.query({ number: 17 })).resolves.toEqual({ number: 17, admitted: true, reason: '17 contains a 7' })
    await expect(api.check.query({ number: 12 })).resolves.toEqual({
      number: 12,
      admitted: false,
      reason: '12 is not divisible by 7 and has no 7 in it',
    })

    const all = await Promise.all(Array.from({ length: 100 }, (_, i) => api.check.query({ number: i + 1 })))
    expect(all.filter((v) => v.admitted).map((v) => v.number)).toEqual(LUCKY)
    expect(all.map((v) => v.number)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
  })

  it('refuses 0, 101, 1.5 and "7" with BAD_REQUEST on the number', async () => {
    const app = await admission()
    const api = client(app.rpcUrl)
    for (const number of [0, 101, 1.5, '7' as unknown as number, Number.NaN]) {
      const error = await rpcErrorOf(api.check.query({ number }))
      expect(error.code).toBe('BAD_REQUEST')
      expect((error.data as ValidationErrorData).issues[0]!.path).toEqual(['number'])
    }
    expect((await api.check.query({ number: 1 })).admitted).toBe(false) // the connection is unharmed
  })

  it('announces draws with increasing tracked ids until unsubscribed, then ends the generator', async () => {
    const draws = [7, 12, 70, 99, 17]
    const app = await admission(sequence(draws))
    const api = client(app.rpcUrl)
    const events: { draw: number; number: number; admitted: boolean; reason: string; at: Date }[] = []
    const ids: (string | undefined)[] = []
    const errors: RpcError[] = []
    const sub = api.announcements.subscribe(
      { everyMs: 100 },
      {
        onData: (event) => {
          events.push(event)
          ids.push(sub.lastEventId)
        },
        onError: (error) => errors.push(error),
      },
    )
    onTestFinished(() => sub.unsubscribe())

    await waitUntil(() => events.length >= 4, 'four announcements')
    expect(app.streams).toEqual({ started: 1, ended: 0 })
    sub.unsubscribe()
    await waitUntil(() => app.streams.ended === 1, "the generator's finally")
    await waitUntil(() => app.rpc.stats().subscriptions === 0, 'the server to drop the subscription')

    const seen = events.length
    expect(events.map((e) => e.draw)).toEqual(Array.from({ length: seen }, (_, i) => i + 1))
    expect(ids).toEqual(events.map((e) => String(e.draw)))
    events.forEach((event, i) => {
      expect(event).toMatchObject(judge(draws[i % draws.length]!))
      expect(event.at).toBeInstanceOf(Date)
    })
    expect(events.slice(1).every((e, i) => e.at.getTime() >= events[i]!.at.getTime())).toBe(true)

    await sleep(250) // two more intervals: nothing arrives after unsubscribing
    expect(events).toHaveLength(seen)
    expect(errors).toEqual([])
    expect(app.streams).toEqual({ started: 1, ended: 1 })
    expect(api.$connection.state).toBe('open')
  })

  it('carries the numbering on after a lastEventId, and ignores one that is not a draw number', async () => {
    const app = await admission(sequence([50]))
    const api = client(app.rpcUrl)
    const first = async (lastEventId: string) => {
      for await (const event of api.announcements.subscribe({ everyMs: 60_000 }, { lastEventId })) return event.draw // break: unsubscribes
      throw new Error('the subscription ended without an event')
    }
    expect(await first('41')).toBe(42)
    expect(await first('not-a-draw')).toBe(1)
    await waitUntil(() => app.streams.ended === 2, 'both generators to end')

    expect(parseDrawId(undefined)).toBeUndefined()
    expect(parseDrawId('999999999')).toBe(999_999_999)
    for (const bad of ['', '0', '-1', '1.5', '1e3', ' 7', '07', '1000000000']) expect(parseDrawId(bad)).toBeUndefined()
  })

  it('refuses an interval under 100 ms or over a minute before the stream starts', async () => {
    const app = await admission()
    const api = client(app.rpcUrl)
    for (const everyMs of [99, 60_001, 150.5]) {
      let started = false
      const error = await new Promise<RpcError>((resolve) => {
        api.announcements.subscribe({ everyMs }, { onStarted: () => (started = true), onError: resolve })
      })
      expect(error.code).toBe('BAD_REQUEST')
      expect(started).toBe(false)
    }
    expect(app.streams.started).toBe(0)
  })
})
