import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { PROTOCOL } from '@wirecall/core'
import { connectClient, rpcErrorOf, sleep, waitUntil } from '../../helpers/harness'
import type { StreamRouter } from './router'

/**
 * A client against a server that predates client streams (its `ack` lists
 * no `"streams"`): a stream call or duplex subscription fails locally with
 * `NOT_IMPLEMENTED`, and nothing of it reaches the server, which would
 * close the connection on a message type it does not know.
 */

/** A wirecall.v1 server that only acks, with no `features`, and records what it receives. */
async function oldServer(): Promise<{ url: string; received: Record<string, unknown>[] }> {
  const received: Record<string, unknown>[] = []
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false) })
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const parsed = JSON.parse(String(data)) as unknown
      for (const message of (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[]) {
        received.push(message)
        if (message.type === 'init') ws.send(JSON.stringify({ type: 'ack' }))
        if (message.type === 'call') ws.send(JSON.stringify({ type: 'result', id: message.id, data: 'old' }))
      }
    })
  })
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate()
        wss.close(() => resolve())
      }),
  )
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const { port } = wss.address() as { port: number }
  return { url: `ws://127.0.0.1:${port}/rpc`, received }
}

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
})

describe('a server without "streams" in its ack', () => {
  it('a stream call rejects NOT_IMPLEMENTED locally, and nothing of it is sent', async () => {
    const { url, received } = await oldServer()
    const api = connectClient<StreamRouter>(url)
    let pulled = 0
    async function* numbers() {
      for (let i = 0; i < 10; i++) {
        pulled++
        yield i
      }
    }
    const error = await rpcErrorOf(api.sum.mutate(numbers()))
    expect(error.code).toBe('NOT_IMPLEMENTED')
    expect(error.message).toMatch(/does not accept client streams/)
    expect(pulled).toBe(0)
    // A plain call still works, and is the only thing the server got besides init.
    expect(await api.ping.query()).toBe('old')
    expect(received.map((m) => m.type)).toEqual(['init', 'call'])
    expect(received.some((m) => m.stream !== undefined)).toBe(false)
  })

  it('a duplex subscription ends with NOT_IMPLEMENTED, unsent', async () => {
    const { url, received } = await oldServer()
    const api = connectClient<StreamRouter>(url)
    async function* messages() {
      yield { text: 'hello' }
    }
    const errors: string[] = []
    api.chat.subscribe(messages(), { onError: (error) => errors.push(error.code) })
    await waitUntil(() => errors.length > 0, 'the subscription to fail')
    expect(errors).toEqual(['NOT_IMPLEMENTED'])
    await sleep(20)
    expect(received.map((m) => m.type)).toEqual(['init'])
  })
})
