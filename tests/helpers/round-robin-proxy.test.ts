import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { waitUntil, within } from './async.js'
import { startRoundRobinProxy } from './round-robin-proxy.js'

/** A TCP server on 127.0.0.1 that greets each connection with `<tag>\n`, then echoes every byte; closed after the test. */
async function startEchoServer(tag: string): Promise<{ server: Server; port: number; sockets: Set<Socket>; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    socket.write(`${tag}\n`)
    socket.pipe(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve())
      for (const socket of sockets) socket.destroy()
    })
    return closing
  }
  onTestFinished(close)
  return { server, port: (server.address() as AddressInfo).port, sockets, close }
}

interface Client {
  socket: Socket
  /** Everything received so far. */
  data(): Buffer
  /** Resolves when the socket has closed, with whether it was an error (a reset). */
  closed: Promise<boolean>
  /** The target's greeting (`A`, `B`): which server the proxy chose. */
  target(): Promise<string>
}

/** Connects a raw TCP client to `port`; destroyed after the test. */
function openClient(port: number): Client {
  const socket = connect({ host: '127.0.0.1', port })
  let received = Buffer.alloc(0)
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk])
  })
  socket.on('error', () => {})
  const closed = new Promise<boolean>((resolve) => socket.once('close', resolve))
  onTestFinished(() => {
    socket.destroy()
  })
  return {
    socket,
    data: () => received,
    closed,
    async target() {
      await waitUntil(() => received.includes('\n') || socket.destroyed, 'the greeting of the target')
      return received.toString('utf8', 0, received.indexOf('\n'))
    },
  }
}

describe('startRoundRobinProxy', () => {
  it('spreads new connections over the targets in turn, and pipes bytes both ways', async () => {
    const a = await startEchoServer('A')
    const b = await startEchoServer('B')
    const proxy = await startRoundRobinProxy([a.port, b.port])
    expect(proxy.targets).toEqual([a.port, b.port])
    const seen: string[] = []
    for (let i = 0; i < 6; i++) seen.push(await openClient(proxy.port).target())
    expect(seen).toEqual(['A', 'B', 'A', 'B', 'A', 'B'])
    expect(proxy.connections).toBe(6)
    expect(proxy.connectionsTo(a.port)).toBe(3)
    expect(proxy.connectionsTo(b.port)).toBe(3)
    expect(proxy.url('/rpc')).toBe(`ws://127.0.0.1:${proxy.port}/rpc`)
  })

  it('forwards bytes written before the target accepted, and a large payload intact under backpressure', async () => {
    const a = await startEchoServer('A')
    const proxy = await startRoundRobinProxy([a.port])
    const client = openClient(proxy.port)
    const payload = Buffer.alloc(4 * 1024 * 1024)
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251
    client.socket.write(payload)
    await waitUntil(() => client.data().length >= payload.length + 2, 'the echo of 4 MiB', 8_000)
    expect(client.data().subarray(0, 2).toString()).toBe('A\n')
    expect(client.data().subarray(2).equals(payload)).toBe(true)
  })

  it('sends every new connection to the live target once one is closed, and ends the dead one’s pipes', async () => {
    const a = await startEchoServer('A')
    const b = await startEchoServer('B')
    const proxy = await startRoundRobinProxy([a.port, b.port])
    const onA = openClient(proxy.port)
    expect(await onA.target()).toBe('A')
    const onB = openClient(proxy.port)
    expect(await onB.target()).toBe('B')
    await a.close()
    await within(onA.closed, 'the pipe to the closed target to end')
    await waitUntil(() => proxy.connectionsTo(a.port) === 0, 'no pipe to the closed target')
    const seen: string[] = []
    for (let i = 0; i < 6; i++) seen.push(await openClient(proxy.port).target())
    expect(seen).toEqual(['B', 'B', 'B', 'B', 'B', 'B'])
    expect(proxy.connectionsTo(b.port)).toBe(7)
    expect(proxy.rejected).toBe(0)
    expect(onB.socket.destroyed).toBe(false)
  })

  it('resets the client when every target refuses, and follows setTargets()', async () => {
    const a = await startEchoServer('A')
    const b = await startEchoServer('B')
    const proxy = await startRoundRobinProxy([a.port])
    await a.close()
    const refused = openClient(proxy.port)
    expect(await within(refused.closed, 'the refused client to close')).toBe(true)
    expect(refused.data().length).toBe(0)
    expect(proxy.rejected).toBe(1)
    proxy.setTargets([a.port, b.port])
    expect(await openClient(proxy.port).target()).toBe('B')
    proxy.setTargets([])
    expect(await within(openClient(proxy.port).closed, 'the client of an empty target list to close')).toBe(true)
    expect(proxy.rejected).toBe(2)
  })

  it('passes a FIN on both ways, and close() ends every pipe', async () => {
    const a = await startEchoServer('A')
    const proxy = await startRoundRobinProxy([a.port])
    const ending = openClient(proxy.port)
    expect(await ending.target()).toBe('A')
    const ended = new Promise<void>((resolve) => ending.socket.once('end', resolve))
    ending.socket.end('bye')
    await within(ended, 'the echo server’s FIN through the proxy')
    expect(ending.data().toString()).toBe('A\nbye')
    await waitUntil(() => proxy.connections === 0, 'the ended pipe to go')

    const open = openClient(proxy.port)
    expect(await open.target()).toBe('A')
    await within(proxy.close(), 'the proxy to close')
    await within(open.closed, 'the client to see the close')
    await waitUntil(() => a.sockets.size === 0, 'the upstream socket to close')
    expect(proxy.connections).toBe(0)
  })
})
