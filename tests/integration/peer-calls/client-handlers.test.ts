import { onTestFinished, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { z } from 'zod'
import { clientProcedure, defineClientRouter, PROTOCOL } from '@wirecall/core'
import { createRpcClient, implementClient } from '@wirecall/client'
import { sleep, untilAborted, waitUntil } from '../../helpers/harness'
import type { AppRouter } from './fixtures'

/**
 * The client's side, against a server written by hand (a `ws` server on
 * 127.0.0.1 that sends whatever the test says): what the client answers
 * to calls it cannot or will not run, its cap on handlers running at
 * once, validation of what its handlers return, and silence after a
 * cancel or a dropped connection.
 */

const clientRouter = defineClientRouter({
  double: clientProcedure.input(z.number()).output(z.number()),
  hold: clientProcedure,
  /** Returns what the output schema refuses. */
  liar: clientProcedure.output(z.number()),
})

/** A hand-written server: records what each connection sent, and hands the test each socket once it has acked. */
async function handServer() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => PROTOCOL })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  onTestFinished(() => new Promise<void>((resolve) => {
    for (const client of wss.clients) client.terminate()
    wss.close(() => resolve())
  }))
  const sockets: { ws: WebSocket; received: Record<string, unknown>[] }[] = []
  wss.on('connection', (ws) => {
    const entry = { ws, received: [] as Record<string, unknown>[] }
    ws.on('message', (data) => {
      const parsed = JSON.parse(String(data)) as unknown
      for (const m of (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[]) {
        entry.received.push(m)
        if (m.type === 'init') {
          ws.send(JSON.stringify({ type: 'ack' }))
          sockets.push(entry)
        }
      }
    })
  })
  const { port } = wss.address() as { port: number }
  return { url: `ws://127.0.0.1:${port}/`, sockets }
}

function client(url: string) {
  const aborted: number[] = []
  let running = 0
  const handlers = implementClient(clientRouter, {
    double: (n) => n * 2,
    // Declared without input; the hand-written server sends a number to tell the calls apart.
    hold: async (input: unknown, { signal }) => {
      running++
      await untilAborted(signal)
      aborted.push(input as number)
      return 'late'
    },
    liar: () => 'not a number' as unknown as number,
  })
  const api = createRpcClient<AppRouter>({ url, WebSocket, handlers, reconnect: { minDelayMs: 10, maxDelayMs: 20 } })
  onTestFinished(() => api.$connection.close())
  return { api, aborted, running: () => running }
}

const answers = (received: Record<string, unknown>[]) => received.filter((m) => m.type === 'result' || m.type === 'error')

describe('a client running the server calls', () => {
  it('advertises its paths in init, and answers what it cannot run: unknown path, bad input, bad output', async () => {
    const { url, sockets } = await handServer()
    client(url)
    await waitUntil(() => sockets.length === 1, 'the client to connect')
    const { ws, received } = sockets[0]!
    expect(received[0]).toMatchObject({ type: 'init', handlers: ['double', 'hold', 'liar'] })
    ws.send(JSON.stringify([
      { type: 'call', id: 1, path: 'nope', timeoutMs: 1_000 },
      { type: 'call', id: 2, path: 'double', input: 'x', timeoutMs: 1_000 },
      { type: 'call', id: 3, path: 'liar', timeoutMs: 1_000 },
      { type: 'call', id: 4, path: 'double', input: 21, timeoutMs: 1_000 },
    ]))
    await waitUntil(() => answers(received).length === 4, 'four answers')
    const byId = Object.fromEntries(answers(received).map((m) => [m.id, m]))
    expect(byId[1]).toMatchObject({ type: 'error', code: 'NOT_IMPLEMENTED' })
    expect(byId[2]).toMatchObject({ type: 'error', code: 'BAD_REQUEST', data: { issues: [expect.objectContaining({ message: expect.any(String) })] } })
    expect(byId[3]).toMatchObject({ type: 'error', code: 'INTERNAL' })
    expect(byId[4]).toEqual({ type: 'result', id: 4, data: 42 })
  })

  it('runs at most 64 handlers at once: the next are TOO_MANY_REQUESTS; a cancelled call is aborted and never answered', async () => {
    const { url, sockets } = await handServer()
    const { aborted, running } = client(url)
    await waitUntil(() => sockets.length === 1, 'the client to connect')
    const { ws, received } = sockets[0]!
    ws.send(JSON.stringify(Array.from({ length: 70 }, (_, i) => ({ type: 'call', id: i + 1, path: 'hold', input: i + 1, timeoutMs: 10_000 }))))
    await waitUntil(() => answers(received).length === 6 && running() === 64, '64 running and 6 refused')
    expect(answers(received).map((m) => [m.id, m.code])).toEqual([65, 66, 67, 68, 69, 70].map((id) => [id, 'TOO_MANY_REQUESTS']))
    ws.send(JSON.stringify(Array.from({ length: 64 }, (_, i) => ({ type: 'cancel', id: i + 1 }))))
    await waitUntil(() => aborted.length === 64, 'every handler to be aborted')
    await sleep(50)
    // The handlers returned 'late' after their abort: nothing went out for them.
    expect(answers(received)).toHaveLength(6)
    // The slots are free again.
    ws.send(JSON.stringify({ type: 'call', id: 100, path: 'double', input: 1, timeoutMs: 1_000 }))
    await waitUntil(() => answers(received).some((m) => m.id === 100), 'the next call to be answered')
  })

  it('a dropped connection aborts its handlers, and their answers never reach the next connection', async () => {
    const { url, sockets } = await handServer()
    const { aborted, running } = client(url)
    await waitUntil(() => sockets.length === 1, 'the client to connect')
    sockets[0]!.ws.send(JSON.stringify({ type: 'call', id: 1, path: 'hold', input: 1, timeoutMs: 10_000 }))
    await waitUntil(() => running() === 1, 'the handler to run')
    sockets[0]!.ws.terminate()
    await waitUntil(() => aborted.includes(1), 'the handler to be aborted')
    await waitUntil(() => sockets.length === 2, 'the client to reconnect')
    await sleep(50)
    expect(answers(sockets[0]!.received)).toEqual([])
    expect(answers(sockets[1]!.received)).toEqual([])
  })

  it('a client without handlers answers every server call NOT_IMPLEMENTED', async () => {
    const { url, sockets } = await handServer()
    const api = createRpcClient<AppRouter>({ url, WebSocket })
    onTestFinished(() => api.$connection.close())
    await waitUntil(() => sockets.length === 1, 'the client to connect')
    const { ws, received } = sockets[0]!
    expect(received[0]).toEqual({ type: 'init' })
    ws.send(JSON.stringify({ type: 'call', id: 7, path: 'double', input: 1, timeoutMs: 1_000 }))
    await waitUntil(() => answers(received).length === 1, 'the answer')
    expect(answers(received)[0]).toMatchObject({ type: 'error', id: 7, code: 'NOT_IMPLEMENTED' })
  })

  it('implementClient throws at once when a declared procedure has no function', () => {
    expect(() => implementClient(clientRouter, { double: (n: number) => n } as never)).toThrow(TypeError)
    expect(() => implementClient(clientRouter, { double: (n: number) => n, hold: () => null, liar: 1 } as never)).toThrow(/no function for "liar"/)
  })
})
