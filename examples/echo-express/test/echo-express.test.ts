import { onTestFinished, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createRpcClient, type ValidationErrorData } from '@wirecall/client'
import { rpcErrorOf, within } from '../../../tests/helpers/harness'
import { MAX_TEXT, type AppRouter } from '../src/router'
import { startEchoExpress, type EchoExpress } from '../src/server'

/** Starts the app on 127.0.0.1 and a free port; closed after the test. */
async function echoApp(): Promise<EchoExpress> {
  const app = await startEchoExpress({ port: 0, host: '127.0.0.1' })
  onTestFinished(() => app.close())
  return app
}

function client(url: string) {
  const api = createRpcClient<AppRouter>({ url, WebSocket })
  onTestFinished(() => api.$connection.close())
  return api
}

describe('examples/echo-express', () => {
  it('serves the page and its bundled script from Express on the RPC port', async () => {
    const app = await echoApp()
    const page = await fetch(app.url)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    const html = await page.text()
    expect(html).toContain('<script type="module" src="/app.js">')
    expect(html).toContain('id="state"')

    const script = await fetch(new URL('/app.js', app.url))
    expect(script.status).toBe(200)
    expect(script.headers.get('content-type')).toMatch(/javascript/)
    const code = await script.text()
    expect(code.length).toBeGreaterThan(1_000)
    expect(code).not.toMatch(/from\s*["']node:/) // bundled for the browser: no Node imports left

    // Plain HTTP requests stay Express's, /rpc included: wirecall only takes the upgrades.
    expect((await fetch(new URL('/rpc', app.url))).status).toBe(404)
    expect((await fetch(new URL('/nope', app.url))).status).toBe(404)
  })

  it('echoes the text with the server time, as a real Date', async () => {
    const app = await echoApp()
    const api = client(app.rpcUrl)
    const before = Date.now()
    const echo = await api.echo.query({ text: '  hello over Express ' })
    expect(echo.text).toBe('hello over Express')
    expect(echo.at).toBeInstanceOf(Date)
    expect(echo.at.getTime()).toBeGreaterThanOrEqual(before - 1_000)
    expect(echo.at.getTime()).toBeLessThanOrEqual(Date.now() + 1_000)
    expect((await api.echo.query({ text: 'x'.repeat(MAX_TEXT) })).text).toHaveLength(MAX_TEXT)
    expect(api.$connection.state).toBe('open')
  })

  it('refuses an empty or too long text with BAD_REQUEST and the issue', async () => {
    const app = await echoApp()
    const api = client(app.rpcUrl)
    for (const text of ['', '   ', 'x'.repeat(MAX_TEXT + 1)]) {
      const error = await rpcErrorOf(api.echo.query({ text }))
      expect(error.code).toBe('BAD_REQUEST')
      const { issues } = error.data as ValidationErrorData
      expect(issues[0]!.path).toEqual(['text'])
    }
    // The connection is unharmed by refused input.
    expect((await api.echo.query({ text: 'still here' })).text).toBe('still here')
  })

  it('closes everything it opened', async () => {
    const app = await echoApp()
    const api = client(app.rpcUrl)
    await api.echo.query({ text: 'hi' })
    await (await fetch(app.url)).text() // leaves a keep-alive HTTP connection open
    expect(app.rpc.stats().connections).toBe(1)
    expect(app.http.listenerCount('upgrade')).toBe(1)

    await within(app.close(), 'close()')
    expect(app.rpc.stats()).toMatchObject({ connections: 0, inFlightCalls: 0, subscriptions: 0, unwinding: 0 })
    expect(app.http.listening).toBe(false)
    expect(app.http.listenerCount('upgrade')).toBe(0) // wirecall detached
    await expect(fetch(app.url)).rejects.toThrow()
    await expect(app.close()).resolves.toBeUndefined() // a second close is harmless
  })
})
