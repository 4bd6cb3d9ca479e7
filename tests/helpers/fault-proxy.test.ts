import { describe, expect, it, onTestFinished } from 'vitest'
import type { AddressInfo } from 'node:net'
import WebSocket, { WebSocketServer } from 'ws'
import { sleep, waitUntil, within } from './harness.js'
import { startFaultProxy } from './fault-proxy.js'

/** A plain `ws` echo server on 127.0.0.1; every frame is sent back prefixed with `tag`. */
async function startEchoServer(tag = ''): Promise<{ wss: WebSocketServer; port: number }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  wss.on('connection', (ws) => {
    ws.on('error', () => {})
    ws.on('message', (data) => ws.send(`${tag}${String(data)}`))
  })
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve)
    wss.once('error', reject)
  })
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate()
        wss.close(() => resolve())
      }),
  )
  return { wss, port: (wss.address() as AddressInfo).port }
}

interface Client {
  ws: WebSocket
  /** Frames received, as strings, in order. */
  received: string[]
  closed: Promise<number>
  /** Resolves with the next frame received. */
  next(timeoutMs?: number): Promise<string>
}

/** Opens a `ws` client (terminated after the test) and waits until open, or rejects with its error. */
async function openClient(url: string): Promise<Client> {
  const ws = new WebSocket(url)
  const received: string[] = []
  ws.on('message', (data) => received.push(String(data)))
  ws.on('error', () => {})
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  onTestFinished(() => {
    ws.terminate()
  })
  await within(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    }),
    'the client to open',
  )
  return {
    ws,
    received,
    closed,
    next(timeoutMs = 3_000) {
      return within(new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data)))), 'a frame', timeoutMs)
    },
  }
}

/** How a connection attempt ended: opened, or failed with its error (or timed out). */
function attempt(url: string, timeoutMs = 3_000): Promise<'open' | Error> {
  const ws = new WebSocket(url)
  ws.on('error', () => {})
  onTestFinished(() => {
    ws.terminate()
  })
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(new Error('timed out')), timeoutMs)
    ws.once('open', () => {
      clearTimeout(timer)
      resolve('open')
    })
    ws.once('error', (error) => {
      clearTimeout(timer)
      resolve(error)
    })
  })
}

describe('fault proxy', () => {
  it('listens on 127.0.0.1 and passes an echo both ways', async () => {
    const { port } = await startEchoServer()
    const proxy = await startFaultProxy(port)
    expect(proxy.url('/x')).toBe(`ws://127.0.0.1:${proxy.port}/x`)
    const client = await openClient(proxy.url('/'))
    const reply = client.next()
    client.ws.send('hello')
    expect(await reply).toBe('hello')
    expect(proxy.connections).toBe(1)
  })

  it('forgets a pipe once both sides have closed', async () => {
    const { port } = await startEchoServer()
    const proxy = await startFaultProxy(port)
    const client = await openClient(proxy.url('/'))
    client.ws.close(1000)
    expect(await within(client.closed, 'the close')).toBe(1000)
    await waitUntil(() => proxy.connections === 0, 'the pipe to go')
  })

  it('cut() drops the link: the client sees 1006, and new connections still pass', async () => {
    const { wss, port } = await startEchoServer()
    const proxy = await startFaultProxy(port)
    const client = await openClient(proxy.url('/'))
    await waitUntil(() => wss.clients.size === 1, 'the server to see the client')
    proxy.cut()
    expect(await within(client.closed, 'the close')).toBe(1006)
    await waitUntil(() => proxy.connections === 0 && wss.clients.size === 0, 'both ends to go')
    const again = await openClient(proxy.url('/'))
    const reply = again.next()
    again.ws.send('back')
    expect(await reply).toBe('back')
  })

  it('stall() holds traffic with the link open; restore() delivers it and what follows', async () => {
    const { port } = await startEchoServer()
    const proxy = await startFaultProxy(port)
    const client = await openClient(proxy.url('/'))
    proxy.stall()
    client.ws.send('held')
    await sleep(300)
    expect(client.received).toEqual([])
    expect(client.ws.readyState).toBe(WebSocket.OPEN)
    expect(proxy.connections).toBe(1)

    // New connections pass by default while stalled.
    expect(await attempt(proxy.url('/'))).toBe('open')

    proxy.restore()
    client.ws.send('after')
    await waitUntil(() => client.received.length === 2, 'both echoes')
    expect(client.received).toEqual(['held', 'after'])
  })

  it('stall({ stallNew: true }) stalls new connections too, until restore()', async () => {
    const { port } = await startEchoServer()
    const proxy = await startFaultProxy(port)
    proxy.stall({ stallNew: true })
    const opening = attempt(proxy.url('/'))
    const first = await Promise.race([opening, sleep(300).then(() => 'still opening' as const)])
    expect(first).toBe('still opening')
    proxy.restore()
    expect(await opening).toBe('open')
  })

  it('refuse(true) makes new connections fail; existing ones and refuse(false) pass', async () => {
    const { port } = await startEchoServer()
    const proxy = await startFaultProxy(port)
    const client = await openClient(proxy.url('/'))
    proxy.refuse(true)
    const outcome = await attempt(proxy.url('/'))
    expect(outcome).toBeInstanceOf(Error)
    expect(String(outcome)).not.toContain('timed out')
    const reply = client.next()
    client.ws.send('still here')
    expect(await reply).toBe('still here')
    proxy.refuse(false)
    expect(await attempt(proxy.url('/'))).toBe('open')
  })

  it('fails a client whose upstream is unreachable', async () => {
    const { wss, port } = await startEchoServer()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
    const proxy = await startFaultProxy(port)
    const outcome = await attempt(proxy.url('/'))
    expect(outcome).toBeInstanceOf(Error)
    expect(String(outcome)).not.toContain('timed out')
    await waitUntil(() => proxy.connections === 0, 'the pipe to go')
  })

  it('setTarget() points new connections at another server; current pipes stay', async () => {
    const a = await startEchoServer('a:')
    const b = await startEchoServer('b:')
    const proxy = await startFaultProxy(a.port)
    const first = await openClient(proxy.url('/'))
    proxy.setTarget(b.port)
    const second = await openClient(proxy.url('/'))
    const replies = [first.next(), second.next()]
    first.ws.send('1')
    second.ws.send('2')
    expect(await Promise.all(replies)).toEqual(['a:1', 'b:2'])
  })

  it('close() drops every pipe and stops listening', async () => {
    const { port } = await startEchoServer()
    const proxy = await startFaultProxy(port)
    const client = await openClient(proxy.url('/'))
    proxy.stall()
    await within(proxy.close(), 'the proxy to close')
    expect(await within(client.closed, 'the close')).toBe(1006)
    expect(proxy.connections).toBe(0)
    expect(await attempt(proxy.url('/'))).toBeInstanceOf(Error)
  })
})
