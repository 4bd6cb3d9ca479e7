import { describe, expect, it, onTestFinished } from 'vitest'
import { initRpc, PROTOCOL } from '@wirecall/core'
import { createRpcServer, type RpcSocket, type SocketEvents } from '@wirecall/server'
import { waitUntil } from '../../helpers/harness'

/**
 * The time slice per peer (docs/security.md, "CPU per peer") is per turn of
 * the event loop: a peer whose frames take 10 ms in one turn waits for the
 * next, but the time its frames took in earlier turns does not add up. A
 * client making one call at a time, for as long as it likes, is never held
 * back. Driven through `opened()` with an in-memory socket that counts
 * `pause()`, which the server calls whenever it holds a peer's frames.
 */

/** Keeps the thread busy for `ms`, as a costly resolver would. */
function spin(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {
    // busy
  }
}

const rpc = initRpc.create()
const router = rpc.router({
  slow: rpc.procedure.query(() => {
    spin(1)
    return 'done'
  }),
})

function memoryPeer() {
  const server = createRpcServer({ router, keepAlive: false })
  onTestFinished(() => server.close())
  const received: string[] = []
  let pauses = 0
  const socket: RpcSocket = {
    protocol: PROTOCOL,
    bufferedAmount: 0,
    send: (data) => void received.push(data),
    close: () => {},
    terminate: () => {},
    pause: () => void pauses++,
    resume: () => {},
  }
  const events: SocketEvents = server.opened(socket, { headers: {} })
  return { events, received, pauses: () => pauses }
}

/** Resolves on a later turn of the event loop. */
const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0))

describe('the read slice is per turn', () => {
  it('30 calls of 1 ms each, one per turn (30 ms in all), are never held', async () => {
    const peer = memoryPeer()
    peer.events.receive('{"type":"init"}')
    await waitUntil(() => peer.received.length === 1, 'ack')
    for (let id = 1; id <= 30; id++) {
      peer.events.receive(JSON.stringify({ type: 'call', id, method: 'query', path: 'slow' }))
      await waitUntil(() => peer.received.length === id + 1, `answer ${id}`)
      await nextTurn()
    }
    expect(peer.received.at(-1)).toBe('{"type":"result","id":30,"data":"done"}')
    expect(peer.pauses()).toBe(0)
  })

  it('30 calls of 1 ms each in one turn are held after 10 ms, and all answered in order', async () => {
    const peer = memoryPeer()
    peer.events.receive('{"type":"init"}')
    await waitUntil(() => peer.received.length === 1, 'ack')
    for (let id = 1; id <= 30; id++) peer.events.receive(JSON.stringify({ type: 'call', id, method: 'query', path: 'slow' }))
    expect(peer.pauses()).toBeGreaterThan(0)
    await waitUntil(() => peer.received.join('').split('"type":"result"').length - 1 === 30, '30 answers')
    const ids = peer.received.flatMap((frame) => [...frame.matchAll(/"id":(\d+)/g)].map((m) => Number(m[1])))
    expect(ids).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
  })
})
