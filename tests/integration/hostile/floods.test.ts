import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { initRpc } from '@wirecall/core'
import { connectClient, rawPeer, readyPeer, rpcErrorOf, sleep, startServer, waitUntil, within } from '../../helpers/harness'

/**
 * Floods and the CPU budget per peer (docs/security.md, "every limit"):
 * floods of any message type are throttled and then closed with 1008, pings
 * included, by a count that a steady refill cannot reset; one peer's large
 * or deep frames cannot hold the event loop long enough to starve another
 * client; pings are answered before `ack` whatever the frame's size.
 */

const rpc = initRpc.context<object>().create()
const router = rpc.router({
  echo: rpc.procedure.query(() => 'echo'),
  // No input schema: the payload bounds still apply (docs/security.md).
  sink: rpc.procedure.mutation(() => 'sunk'),
})

const pongs = (messages: Record<string, unknown>[]) => messages.filter((m) => m.type === 'pong').length

describe('pings before ack', () => {
  it('a batch of pings larger than maxConnectionParamsBytes is answered, one pong each', async () => {
    const { url } = await startServer({ router })
    const peer = await rawPeer(url)
    // 1,000 pings (the most a batch may hold) with a sequence number each: over the 16,384-byte params bound.
    const batch = Array.from({ length: 1_000 }, (_, seq) => ({ type: 'ping', seq }))
    expect(JSON.stringify(batch).length).toBeGreaterThan(16_384)
    peer.send(batch)
    await waitUntil(() => pongs(peer.messages) === 1_000, 'a pong for each ping')
    peer.send({ type: 'init' })
    await peer.next((m) => m.type === 'ack')
    peer.ws.close()
  })

  it('a ping padded past the bound is answered too; an init that large still closes with 4413', async () => {
    const { url } = await startServer({ router })
    const peer = await rawPeer(url)
    peer.send({ type: 'ping', pad: 'x'.repeat(20_000) })
    await peer.next((m) => m.type === 'pong')
    peer.send([{ type: 'ping' }, { type: 'init', params: { pad: 'x'.repeat(20_000) } }])
    expect(await peer.closed).toEqual({ code: 4413, reason: 'connectionParams larger than 16384 bytes' })
    expect(peer.messages.some((m) => m.type === 'ack')).toBe(false)
  })
})

describe('floods', () => {
  it('5,000 pings in one burst: the first are answered, the rest dropped, and the peer is closed with 1008', async () => {
    const { url, server } = await startServer({ router, rateLimit: { messagesPerSecond: 1_000, burst: 2_000 } })
    const peer = await readyPeer(url)
    for (let i = 0; i < 5; i++) peer.send(Array.from({ length: 1_000 }, () => ({ type: 'ping' })))
    expect(await within(peer.closed, 'the flood to be closed')).toEqual({ code: 1008, reason: 'message rate limit exceeded' })
    // The burst (2,000, less the init's token) and what refilled meanwhile.
    expect(pongs(peer.messages)).toBeGreaterThanOrEqual(1_999)
    expect(pongs(peer.messages)).toBeLessThan(2_500)
    await waitUntil(() => server.connectionCount === 0, 'the session to be released')
  })

  it('a steady flood is closed although tokens refill every millisecond: accepted messages do not reset the count', async () => {
    const { url } = await startServer({ router, rateLimit: { messagesPerSecond: 1_000, burst: 200 } })
    const peer = await readyPeer(url)
    let sent = 0
    // Three times the rate, in small batches every 10 ms: each batch gets some tokens back.
    const started = performance.now()
    while (peer.ws.readyState === peer.ws.OPEN && performance.now() - started < 5_000) {
      peer.send(Array.from({ length: 30 }, () => ({ type: 'ping' })))
      sent += 30
      await sleep(10)
    }
    expect(await within(peer.closed, 'the flood to be closed')).toEqual({ code: 1008, reason: 'message rate limit exceeded' })
    // Tokens kept coming back (more pongs than the burst), yet the peer was closed.
    expect(pongs(peer.messages)).toBeGreaterThan(200)
    expect(sent).toBeGreaterThan(pongs(peer.messages))
  })

  it('a burst a little over the limit is throttled, not closed', async () => {
    const { url } = await startServer({ router, rateLimit: { messagesPerSecond: 1_000, burst: 200 } })
    const peer = await readyPeer(url)
    peer.send(Array.from({ length: 300 }, (_, i) => ({ type: 'call', id: i + 1, method: 'query', path: 'echo' })))
    await waitUntil(() => peer.messages.filter((m) => m.type === 'result' || m.type === 'error').length === 300, 'an answer to each call')
    expect(peer.messages.filter((m) => m.type === 'error' && m.code === 'TOO_MANY_REQUESTS').length).toBeGreaterThan(50)
    await sleep(200)
    peer.send({ type: 'call', id: 1_000, method: 'query', path: 'echo' })
    expect(await peer.next((m) => m.id === 1_000)).toEqual({ type: 'result', id: 1_000, data: 'echo' })
    peer.ws.close()
  })
})

describe('frame shape', () => {
  it('a real client whose input nests past the frame bound gets PAYLOAD_TOO_LARGE for that call, and the next call goes through on a new connection', async () => {
    const { url } = await startServer({ router })
    const api = connectClient<typeof router>(url)
    expect(await api.echo.query()).toBe('echo')
    let deep: unknown = 1
    for (let i = 0; i < 200; i++) deep = [deep]
    const error = await rpcErrorOf(api.sink.mutate(deep as never))
    expect(error.code).toBe('PAYLOAD_TOO_LARGE')
    expect(error.message).toMatch(/nested deeper than 128 levels/)
    expect(await api.echo.query()).toBe('echo')
  })

  it('a frame of more than maxFrameContainers arrays and objects closes with 1009 before it is parsed', async () => {
    const { url } = await startServer({ router, maxFrameContainers: 1_000 })
    const peer = await readyPeer(url)
    // The message and its input array count too: 1 + 1 + 998 = 1,000.
    peer.send({ type: 'call', id: 1, method: 'mutation', path: 'sink', input: Array.from({ length: 998 }, () => ({})) })
    expect(await peer.next((m) => m.id === 1)).toEqual({ type: 'result', id: 1, data: 'sunk' })
    peer.send({ type: 'call', id: 2, method: 'mutation', path: 'sink', input: Array.from({ length: 999 }, () => []) })
    expect(await peer.closed).toEqual({ code: 1009, reason: 'frame more than 1000 arrays and objects' })
  })
})

const HOG = fileURLToPath(new URL('./peers/hog.mjs', import.meta.url))
const hogs: ChildProcess[] = []
afterEach(() => {
  for (const hog of hogs.splice(0)) hog.kill('SIGKILL')
})

/** Starts a hostile peer in its own process; resolves once it has queued all its frames. */
function startHog(url: string, kind: 'flat' | 'nested' | 'too-deep', count: number, size: number): Promise<ChildProcess> {
  const hog = spawn(process.execPath, [HOG, url, kind, String(count), String(size)], { stdio: ['ignore', 'pipe', 'inherit'] })
  hogs.push(hog)
  return within(
    new Promise<ChildProcess>((resolve, reject) => {
      hog.stdout!.on('data', (data: Buffer) => {
        if (data.toString().includes('sent')) resolve(hog)
      })
      hog.on('exit', (code) => reject(new Error(`the hog exited (${code}) before sending`)))
    }),
    'the hog to send its frames',
    10_000,
  )
}

describe('CPU budget per peer', () => {
  it.each(['flat', 'nested', 'too-deep'] as const)(
    'while one peer sends 20 maximum-size frames of %s JSON, another client is answered within 250 ms, and a new one connects',
    async (kind) => {
      const { url, server } = await startServer({ router })
      const api = connectClient<typeof router>(url)
      expect(await api.echo.query()).toBe('echo')
      const hog = await startHog(url, kind, 20, 1_048_000)
      const latencies: number[] = []
      const exited = new Promise<void>((resolve) => hog.on('exit', () => resolve()))
      let hogDone = false
      void exited.then(() => (hogDone = true))
      // Calls one after another for as long as the hog is sending (and at least half a second).
      const started = performance.now()
      while (performance.now() - started < 500 || (!hogDone && performance.now() - started < 8_000)) {
        const t0 = performance.now()
        expect(await api.echo.query()).toBe('echo')
        latencies.push(performance.now() - t0)
        await sleep(5)
        if (latencies.length === 10) {
          // A client that connects during the flood gets through the handshake and a call.
          const t1 = performance.now()
          const fresh = connectClient<typeof router>(url)
          expect(await fresh.echo.query()).toBe('echo')
          expect(performance.now() - t1, 'a new client: connect, init, ack and a call').toBeLessThan(500)
          await fresh.$connection.close()
        }
      }
      expect(Math.max(...latencies), `slowest of ${latencies.length} calls`).toBeLessThan(250)
      hog.kill('SIGKILL')
      await waitUntil(() => server.connectionCount === 1, 'the hog to be gone')
    },
    20_000,
  )
})
