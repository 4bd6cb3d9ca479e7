import { onTestFinished, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createRpcClient, RpcError } from '@wirecall/client'
import type { AppRouter } from '../src/router'
import { startGreeter } from '../src/server'

async function greeter() {
  const app = await startGreeter({ port: 0, host: '127.0.0.1' })
  onTestFinished(() => app.close())
  return app
}

describe('examples/greeter', () => {
  it('serves the page, its bundled script and typed calls on one port', async () => {
    const app = await greeter()
    const page = await fetch(app.url)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<script type="module" src="/app.js">')
    const script = await fetch(new URL('/app.js', app.url))
    expect(script.headers.get('content-type')).toMatch(/javascript/)
    expect((await script.text()).length).toBeGreaterThan(1_000)

    const api = createRpcClient<AppRouter>({ url: app.rpcUrl, WebSocket, connectionParams: { name: 'test' } })
    onTestFinished(() => api.$connection.close())
    const greeting = await api.greet.query({ name: '  Ada ' })
    expect(greeting.text).toBe('Hello, Ada!')
    expect(greeting.at).toBeInstanceOf(Date)
    expect(await api.whoami.query()).toBe('test')
    const error = await api.slowEcho.query({ text: 'x', delayMs: 5_000 }, { timeoutMs: 50 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RpcError)
    expect((error as RpcError).code).toBe('TIMEOUT')
    expect(await api.slowEcho.query({ text: 'quick', delayMs: 0 })).toBe('quick')
  })

  it('refuses anonymous callers where the middleware requires a name', async () => {
    const app = await greeter()
    const api = createRpcClient<AppRouter>({ url: app.rpcUrl, WebSocket })
    onTestFinished(() => api.$connection.close())
    await expect(api.whoami.query()).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    await expect(api.greet.query({ name: '' })).rejects.toMatchObject({ code: 'BAD_REQUEST' })
  })
})
