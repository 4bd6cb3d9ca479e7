/**
 * wirecall's own CPU per sequential call, without a kernel in the way: a
 * server (`rpcServer.opened`) and a client (`createRpcClient` with a
 * WebSocket class of this file) joined in memory, each frame handed over on
 * the next macrotask as a socket's would be. Beside it, the same round trip
 * done by hand as raw ws's bench server and client do (JSON.parse and
 * JSON.stringify on each side). CPU time, so a busy machine slows it less
 * than it slows wall-clock figures.
 *
 *   tsx src/probe/in-memory-calls.ts [calls] [warm-up]
 */
import { createRpcClient, type WebSocketLike } from '@wirecall/client'
import { createRpcServer, initRpc, type SocketEvents } from '@wirecall/server'
import { echoInput, isEcho, type EchoInput } from '../contract'
import { echoInputSchema } from '../impls/schemas'

const calls = Number(process.argv[2] ?? 50_000)
const warmup = Number(process.argv[3] ?? 20_000)

const rpc = initRpc.create()
const router = rpc.router({ echo: rpc.procedure.input(echoInputSchema).query(({ input }) => input) })
const server = createRpcServer({ router })

/** A browser-like WebSocket whose other end is a wirecall server session in this process. */
class MemorySocket implements WebSocketLike {
  readyState = 0
  protocol = 'wirecall.v1'
  bufferedAmount = 0
  onopen: WebSocketLike['onopen'] = null
  onmessage: WebSocketLike['onmessage'] = null
  onclose: WebSocketLike['onclose'] = null
  onerror: WebSocketLike['onerror'] = null
  private readonly events: SocketEvents
  constructor() {
    this.events = server.opened(
      {
        protocol: 'wirecall.v1',
        bufferedAmount: 0,
        send: (data) => setImmediate(() => this.onmessage?.({ data })),
        close: (code, reason) => setImmediate(() => this.finish(code, reason)),
        terminate: () => setImmediate(() => this.finish(1006, '')),
      },
      { headers: {} },
    )
    setImmediate(() => {
      this.readyState = 1
      this.onopen?.({})
    })
  }
  send(data: string): void {
    setImmediate(() => this.events.receive(data))
  }
  close(code = 1000, reason = ''): void {
    setImmediate(() => this.finish(code, reason))
  }
  private finish(code: number, reason: string): void {
    if (this.readyState === 3) return
    this.readyState = 3
    this.events.closed(code, reason)
    this.onclose?.({ code, reason })
  }
}

const api = createRpcClient<typeof router>({ url: 'ws://memory/rpc', WebSocket: MemorySocket })

/** The same round trip by hand: what raw ws's bench client and server do around their socket. */
function rawRoundTrip(id: number): Promise<unknown> {
  return new Promise((resolve) => {
    const request = JSON.stringify({ id, op: 'echo', input: echoInput(id) })
    setImmediate(() => {
      const { id: requestId, input } = JSON.parse(request) as { id: number; input: EchoInput }
      const response = JSON.stringify({ id: requestId, result: input })
      setImmediate(() => resolve((JSON.parse(response) as { result: unknown }).result))
    })
  })
}

async function measure(name: string, call: (id: number) => Promise<unknown>): Promise<number> {
  for (let id = 0; id < warmup; id++) if (!isEcho(await call(id), id)) throw new Error(`${name}: wrong answer`)
  const start = process.cpuUsage()
  for (let id = warmup; id < warmup + calls; id++) if (!isEcho(await call(id), id)) throw new Error(`${name}: wrong answer`)
  const used = process.cpuUsage(start)
  return (used.user + used.system) / calls
}

// Nothing else here keeps the event loop alive while a frame waits on one of the server's unref'd timers.
const keepAlive = setInterval(() => {}, 1_000)
const rawUs = process.env.PROBE_SKIP_RAW ? NaN : await measure('raw', rawRoundTrip)
const wirecallUs = await measure('wirecall', (id) => api.echo.query(echoInput(id)))
console.log(`CPU per round trip, both sides, ${calls} calls after ${warmup} warm-up: by hand ${rawUs.toFixed(2)} µs, wirecall ${wirecallUs.toFixed(2)} µs (+${(wirecallUs - rawUs).toFixed(2)} µs)`)
await api.$connection.close()
await server.close()
clearInterval(keepAlive)
