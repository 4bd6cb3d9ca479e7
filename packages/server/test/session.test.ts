import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CloseCode, RpcError, initRpc, tracked } from '@wirecall/core'
import { serverDefaults } from '@wirecall/server'
import { z } from 'zod'
import { FakeSocket, openSession, type FakeSession } from './fake-socket'

/**
 * The session as a state machine: raw frames in, frames and close codes
 * out, on a fake socket with fake timers — no network, no real time. Every
 * session is opened through `server.opened()`, the seam for socket
 * libraries other than `ws`, so these tests also show that seam works.
 */

const rpc = initRpc.context<{ user?: string }>().create()
const finished: string[] = []
const router = rpc.router({
  echo: rpc.procedure.input(z.string()).query(({ input }) => input),
  whoami: rpc.procedure.query(({ ctx }) => ctx.user ?? 'nobody'),
  wait: rpc.procedure.input(z.number()).query(
    ({ input, signal }) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => resolve('done'), input)
        signal.addEventListener('abort', () => {
          clearTimeout(timer)
          finished.push('wait aborted')
          reject(signal.reason as Error)
        })
      }),
  ),
  add: rpc.procedure.input(z.object({ n: z.number() })).mutation(({ input }) => input.n + 1),
  ticks: rpc.procedure.subscription(async function* ({ signal }) {
    try {
      for (let n = 1; !signal.aborted; n++) {
        yield tracked(String(n), n)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    } finally {
      finished.push('ticks finally')
    }
  }),
})

const open = (options: Partial<Parameters<typeof openSession<typeof router>>[0]> = {}, socket?: FakeSocket) => openSession({ router, ...options }, socket)

/**
 * The clock is fake but `setImmediate` is real: the session flushes its
 * batch when the turn ends, and a fake immediate scheduled while the fake
 * clock ticks would be pushed a millisecond later.
 */
const FAKED = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] as const

/** Ends the turn for real: what was written goes out. */
const endTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Lets promise callbacks run and the turn's batch flush, without moving the clock. */
async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0)
  await endTurn()
}

/** Moves the clock, then lets what that set off finish its turn. */
async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms)
  await endTurn()
}

async function ready(session: FakeSession): Promise<void> {
  session.send({ type: 'init' })
  await settle()
  expect(session.socket.of('ack')).toEqual([{ type: 'ack', maxPayload: expect.any(Number), limits: expect.any(Object), features: ['streams'] }])
}

let sessions: FakeSession[] = []
beforeEach(() => {
  vi.useFakeTimers({ toFake: [...FAKED] })
  finished.length = 0
  sessions = []
})
afterEach(async () => {
  // Every server closes, and nothing is left running or scheduled.
  for (const { server } of sessions) {
    const closed = server.close()
    await advance(serverDefaults.closeTimeoutMs * 2)
    await closed
    expect(server.stats()).toMatchObject({ connections: 0, inFlightCalls: 0, subscriptions: 0, unwinding: 0 })
  }
  vi.useRealTimers()
})

function track(session: FakeSession): FakeSession {
  sessions.push(session)
  return session
}

describe('handshake', () => {
  it('answers init with ack and the maxPayload it accepts, then serves calls', async () => {
    const s = track(open({ createContext: () => ({ user: 'ada' }) }))
    await ready(s)
    expect(s.socket.of('ack')).toEqual([
      {
        type: 'ack',
        maxPayload: serverDefaults.maxPayload,
        limits: {
          maxInFlightCalls: serverDefaults.maxInFlightCalls,
          maxSubscriptions: serverDefaults.maxSubscriptions,
          messagesPerSecond: serverDefaults.rateLimit.messagesPerSecond,
          burst: serverDefaults.rateLimit.burst,
        },
        features: ['streams'],
      },
    ])
    s.send({ type: 'call', id: 1, method: 'query', path: 'whoami' })
    await settle()
    expect(s.socket.answer(1)).toEqual({ type: 'result', id: 1, data: 'ada' })
  })

  it('closes with 4408 when no init comes within initTimeoutMs, and not before', async () => {
    const s = track(open({ initTimeoutMs: 1_000 }))
    await advance(999)
    expect(s.socket.closes).toEqual([])
    await advance(1)
    expect(s.socket.closes).toEqual([{ code: CloseCode.InitTimeout, reason: 'no init message in time' }])
  })

  it('closes with 4408 when createContext takes longer than initTimeoutMs', async () => {
    const s = track(open({ initTimeoutMs: 1_000, createContext: () => new Promise<{ user?: string }>(() => {}) }))
    s.send({ type: 'init' })
    await advance(1_000)
    expect(s.socket.closes).toEqual([{ code: CloseCode.InitTimeout, reason: 'connection set-up (createContext) took too long' }])
  })

  it.each([
    ['an RpcError FORBIDDEN', new RpcError('FORBIDDEN', 'banned'), CloseCode.Forbidden, 'banned'],
    ['a plain Error', new Error('db down'), CloseCode.Unauthorized, 'Connection refused'],
    ['OVERLOADED', new RpcError('OVERLOADED', 'busy'), CloseCode.TryAgainLater, 'busy'],
    ['INTERNAL', new RpcError('INTERNAL', 'secret'), CloseCode.InternalError, 'internal error'],
  ])('closes with the refusal code when createContext throws %s, and reports it to onError', async (_name, thrown, code, reason) => {
    const onError = vi.fn()
    const s = track(
      open({
        onError,
        createContext: () => {
          throw thrown
        },
      }),
    )
    s.send({ type: 'init' })
    await settle()
    expect(s.socket.closes).toEqual([{ code, reason }])
    expect(onError).toHaveBeenCalledTimes(1)
  })

  it('refuses a call batched with init (4400), whatever createContext is', async () => {
    const s = track(open())
    s.send([{ type: 'init' }, { type: 'call', id: 1, method: 'query', path: 'whoami' }])
    await settle()
    expect(s.socket.closes).toEqual([{ code: CloseCode.ProtocolError, reason: 'call before ack' }])
  })

  it('refuses a second init, a socket without the subprotocol, a binary frame and a frame that is not JSON with 4400', async () => {
    const twice = track(open())
    await ready(twice)
    twice.send({ type: 'init' })
    expect(twice.socket.closes).toEqual([{ code: CloseCode.ProtocolError, reason: 'init sent twice' }])

    const socket = new FakeSocket()
    socket.protocol = ''
    const noProtocol = track(open({}, socket))
    expect(noProtocol.socket.closes).toEqual([{ code: CloseCode.ProtocolError, reason: 'subprotocol wirecall.v1 required' }])

    const binary = track(open())
    binary.events.receive(new Uint8Array([1, 2, 3]))
    expect(binary.socket.closes).toEqual([{ code: CloseCode.ProtocolError, reason: 'binary frames are not accepted' }])

    const garbage = track(open())
    garbage.events.receive('not json')
    expect(garbage.socket.closes).toEqual([{ code: CloseCode.ProtocolError, reason: 'frame is not JSON' }])
  })

  it('closes with 4413 when a frame before ack is larger than maxConnectionParamsBytes', async () => {
    const s = track(open({ maxConnectionParamsBytes: 100 }))
    s.send({ type: 'init', params: { token: 'x'.repeat(200) } })
    expect(s.socket.closes).toEqual([{ code: CloseCode.ParamsTooLarge, reason: 'connectionParams larger than 100 bytes' }])
  })

  it('closes with 1009 a frame larger than maxPayload (the seam checks what ws would)', async () => {
    const s = track(open({ maxPayload: 1_000 }))
    await ready(s)
    s.send({ type: 'call', id: 1, method: 'query', path: 'echo', input: 'x'.repeat(2_000) })
    expect(s.socket.closes).toEqual([{ code: CloseCode.MessageTooBig, reason: 'frame larger than 1000 bytes' }])
  })
})

describe('calls', () => {
  it('answers each call once, by id, and batches the answers of one turn in one frame', async () => {
    const s = track(open())
    await ready(s)
    const before = s.socket.frames.length
    s.send([
      { type: 'call', id: 1, method: 'query', path: 'echo', input: 'a' },
      { type: 'call', id: 2, method: 'mutation', path: 'add', input: { n: 1 } },
    ])
    await settle()
    expect(s.socket.answer(1)).toEqual({ type: 'result', id: 1, data: 'a' })
    expect(s.socket.answer(2)).toEqual({ type: 'result', id: 2, data: 2 })
    expect(s.socket.frames.length - before).toBe(1)
  })

  it('answers a bad call with a per-call error and keeps the session', async () => {
    const s = track(open())
    await ready(s)
    s.send([
      { type: 'call', id: 1, method: 'query', path: 'nope' },
      { type: 'call', id: 2, method: 'mutation', path: 'echo', input: 'a' },
      { type: 'call', id: 3, method: 'query', path: 'echo', input: 5 },
    ])
    await settle()
    expect(s.socket.answer(1)).toMatchObject({ code: 'NOT_FOUND', message: 'no procedure at "nope"' })
    expect(s.socket.answer(2)).toMatchObject({ code: 'METHOD_NOT_SUPPORTED' })
    expect(s.socket.answer(3)).toMatchObject({ code: 'BAD_REQUEST' })
    expect(s.socket.closes).toEqual([])
  })

  it('refuses an id still in use with BAD_REQUEST, and the first call runs on', async () => {
    const s = track(open())
    await ready(s)
    s.send({ type: 'call', id: 1, method: 'query', path: 'wait', input: 50 })
    s.send({ type: 'call', id: 1, method: 'query', path: 'echo', input: 'again' })
    await settle()
    expect(s.socket.of('error')).toEqual([{ type: 'error', id: 1, code: 'BAD_REQUEST', message: 'id 1 is already in use' }])
    await advance(50)
    expect(s.socket.of('result')).toEqual([{ type: 'result', id: 1, data: 'done' }])
  })

  it('cancel aborts the resolver and nothing is sent for the id', async () => {
    const s = track(open())
    await ready(s)
    s.send({ type: 'call', id: 1, method: 'query', path: 'wait', input: 1_000 })
    await settle()
    expect(s.server.stats().inFlightCalls).toBe(1)
    s.send({ type: 'cancel', id: 1 })
    await advance(2_000)
    expect(finished).toEqual(['wait aborted'])
    expect(s.socket.answer(1)).toBeUndefined()
    expect(s.server.stats().inFlightCalls).toBe(0)
  })

  it('refuses the call past maxInFlightCalls with TOO_MANY_REQUESTS', async () => {
    const s = track(open({ maxInFlightCalls: 2 }))
    await ready(s)
    for (const id of [1, 2, 3]) s.send({ type: 'call', id, method: 'query', path: 'wait', input: 10 })
    await settle()
    expect(s.socket.answer(3)).toMatchObject({ code: 'TOO_MANY_REQUESTS' })
    await advance(10)
    expect(s.socket.answer(1)).toMatchObject({ type: 'result' })
  })

  it('an idempotent mutation retried with its key is answered from the first run', async () => {
    const s = track(open())
    await ready(s)
    s.send({ type: 'call', id: 1, method: 'mutation', path: 'add', input: { n: 1 }, idempotencyKey: 'k' })
    await settle()
    s.send({ type: 'call', id: 2, method: 'mutation', path: 'add', input: { n: 1 }, idempotencyKey: 'k' })
    s.send({ type: 'call', id: 3, method: 'mutation', path: 'add', input: { n: 2 }, idempotencyKey: 'k' })
    await settle()
    expect(s.socket.answer(2)).toEqual({ type: 'result', id: 2, data: 2 })
    expect(s.socket.answer(3)).toMatchObject({ code: 'CONFLICT' })
    expect(s.server.stats().idempotencyKeys).toBe(1)
  })

  it('reinit gives later calls a new context, and refused params keep the old one', async () => {
    let next = 'ada'
    const s = track(
      open({
        createContext: ({ connectionParams }) => {
          if ((connectionParams as { bad?: boolean } | undefined)?.bad === true) throw new RpcError('UNAUTHORIZED', 'bad token')
          return { user: next }
        },
      }),
    )
    await ready(s)
    next = 'bob'
    s.send([{ type: 'reinit', id: 1 }, { type: 'call', id: 2, method: 'query', path: 'whoami' }])
    await settle()
    expect(s.socket.answer(1)).toEqual({ type: 'result', id: 1 })
    s.send({ type: 'reinit', id: 3, params: { bad: true } })
    await settle()
    expect(s.socket.answer(3)).toMatchObject({ code: 'UNAUTHORIZED', message: 'bad token' })
    s.send({ type: 'call', id: 4, method: 'query', path: 'whoami' })
    await settle()
    expect(s.socket.answer(4)).toEqual({ type: 'result', id: 4, data: 'bob' })
  })
})

describe('subscriptions', () => {
  it('starts, sends events with their ids, and ends the generator on unsubscribe', async () => {
    const s = track(open())
    await ready(s)
    s.send({ type: 'subscribe', id: 1, path: 'ticks' })
    await settle()
    await advance(100)
    expect(s.socket.of('started')).toEqual([{ type: 'started', id: 1 }])
    expect(s.socket.of('data')).toEqual([
      { type: 'data', id: 1, eventId: '1', data: 1 },
      { type: 'data', id: 1, eventId: '2', data: 2 },
    ])
    expect(s.server.stats().subscriptions).toBe(1)
    s.send({ type: 'unsubscribe', id: 1 })
    await advance(100)
    expect(finished).toEqual(['ticks finally'])
    expect(s.server.stats().subscriptions).toBe(0)
  })

  it('a dropped socket stops every subscription and aborts every call', async () => {
    const s = track(open())
    await ready(s)
    s.send([
      { type: 'subscribe', id: 1, path: 'ticks' },
      { type: 'call', id: 2, method: 'query', path: 'wait', input: 10_000 },
    ])
    await settle()
    s.socket.drop()
    await advance(100)
    expect(finished.sort()).toEqual(['ticks finally', 'wait aborted'])
    expect(s.server.stats()).toMatchObject({ connections: 0, inFlightCalls: 0, subscriptions: 0, unwinding: 0 })
  })
})

describe('limits', () => {
  it('answers messages over the rate limit with TOO_MANY_REQUESTS, and closes a flood with 1008', async () => {
    const s = track(open({ rateLimit: { messagesPerSecond: 1, burst: 3 } }))
    await ready(s)
    for (let id = 1; id <= 3; id++) s.send({ type: 'call', id, method: 'query', path: 'echo', input: 'x' })
    await settle()
    expect(s.socket.answer(1)).toMatchObject({ type: 'result' })
    expect(s.socket.answer(3)).toMatchObject({ code: 'TOO_MANY_REQUESTS' })
    for (let id = 4; id <= 10; id++) s.send({ type: 'call', id, method: 'query', path: 'echo', input: 'x' })
    expect(s.socket.closes).toEqual([{ code: CloseCode.PolicyViolation, reason: 'message rate limit exceeded' }])
  })

  it('refuses a connection past maxConnections with 1013, and an origin allowedOrigins refuses with 4403', async () => {
    const first = track(open({ maxConnections: 1 }))
    const second = new FakeSocket()
    first.server.opened(second, { headers: {} })
    expect(second.closes).toEqual([{ code: CloseCode.TryAgainLater, reason: 'too many connections (at most 1)' }])

    const socket = new FakeSocket()
    track(openSession({ router, allowedOrigins: ['https://app.example'] }, socket, { headers: { origin: 'https://evil.example' } }))
    expect(socket.closes).toEqual([{ code: CloseCode.Forbidden, reason: 'origin not allowed' }])
  })

  it('createContext receives a stand-in request with the headers, url and remote address', async () => {
    const seen: unknown[] = []
    const socket = new FakeSocket()
    const s = track(
      openSession(
        {
          router,
          createContext: ({ req }) => {
            seen.push({ cookie: req.headers.cookie, url: req.url, address: req.socket.remoteAddress })
            return {}
          },
        },
        socket,
        { headers: { cookie: 'sid=1' }, url: '/rpc?v=1', remoteAddress: '10.0.0.7' },
      ),
    )
    await ready(s)
    expect(seen).toEqual([{ cookie: 'sid=1', url: '/rpc?v=1', address: '10.0.0.7' }])
  })
})

describe('byte budget', () => {
  // Fakes performance.now too: the rate limit's buckets refill from it.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: [...FAKED, 'performance'] })
  })

  const rateLimit = { bytesPerSecond: 10_000, burstBytes: 10_000 }
  const bigCall = (id: number) => ({ type: 'call', id, method: 'query', path: 'echo', input: 'x'.repeat(4_900) })

  it('holds frames over the budget unparsed, with reading paused, and answers them in order as the bucket refills', async () => {
    const socket = new FakeSocket({ canPause: true })
    const s = track(open({ rateLimit, maxPayload: 8_192 }, socket))
    await ready(s)
    for (let id = 1; id <= 4; id++) s.send(bigCall(id))
    await settle()
    // About 5 KB each against 10 KB of burst: two pass at once, two wait, about half a second apart.
    expect(socket.of('result').map((m) => m.id)).toEqual([1, 2])
    expect(socket.paused).toBe(true)
    await advance(600)
    expect(socket.of('result').map((m) => m.id)).toEqual([1, 2, 3])
    await advance(600)
    expect(socket.of('result').map((m) => m.id)).toEqual([1, 2, 3, 4])
    expect(socket.paused).toBe(false)
    expect(socket.of('error')).toEqual([])
  })

  it('closes a peer whose socket cannot pause once it is twice the byte burst ahead, with 1008', async () => {
    const s = track(open({ rateLimit, maxPayload: 8_192 }))
    await ready(s)
    // Two pass; four (about 20 KB) may wait; the next is one too many.
    for (let id = 1; id <= 6; id++) s.send(bigCall(id))
    expect(s.socket.closes).toEqual([])
    s.send(bigCall(7))
    expect(s.socket.closes).toEqual([{ code: CloseCode.PolicyViolation, reason: 'byte rate limit exceeded' }])
  })

  it('drops what it holds when the session closes, and reads again so the closing handshake can finish', async () => {
    const socket = new FakeSocket({ canPause: true, answersClose: false })
    const s = track(open({ rateLimit, maxPayload: 8_192 }, socket))
    await ready(s)
    for (let id = 1; id <= 3; id++) s.send(bigCall(id))
    expect(socket.paused).toBe(true)
    // Held, so never parsed: no 4400 for it.
    s.send('not an envelope')
    await settle()
    const closing = s.server.close()
    expect(socket.paused).toBe(false)
    await advance(5_000)
    await closing
    expect(socket.closes).toEqual([{ code: CloseCode.GoingAway, reason: expect.any(String) }])
    expect(socket.of('result').map((m) => m.id)).toEqual([1, 2])
  })
})

describe('keep-alive and shutdown', () => {
  it('pings a quiet socket that can ping, and terminates it when no pong comes', async () => {
    const s = track(open({ keepAlive: { intervalMs: 1_000, timeoutMs: 500 } }, new FakeSocket({ canPing: true })))
    await ready(s)
    await advance(1_000)
    expect(s.socket.pings).toBe(1)
    s.events.pong()
    await advance(900)
    expect(s.socket.terminated).toBe(0)
    await advance(2_000)
    expect(s.socket.terminated).toBe(1)
    expect(s.server.stats().connections).toBe(0)
  })

  it('close() closes with 1001, and cuts off a peer that never answers the close', async () => {
    const s = open({}, new FakeSocket({ answersClose: false }))
    await ready(s)
    const closed = s.server.close()
    await settle()
    expect(s.socket.closes).toEqual([{ code: CloseCode.GoingAway, reason: 'server closed' }])
    expect(s.socket.terminated).toBe(0)
    await advance(serverDefaults.closeTimeoutMs)
    expect(s.socket.terminated).toBe(1)
    await advance(serverDefaults.closeTimeoutMs)
    await closed
    expect(s.server.stats().connections).toBe(0)
  })

  it('close({ graceMs }) announces the restart, lets calls finish, then closes with 1012', async () => {
    const s = open()
    await ready(s)
    s.send({ type: 'call', id: 1, method: 'query', path: 'wait', input: 300 })
    await settle()
    const closed = s.server.close({ graceMs: 1_000, reconnectWindowMs: 0 })
    await settle()
    expect(s.socket.of('restart')).toEqual([{ type: 'restart', delayMs: 0 }])
    expect(s.socket.closes).toEqual([])
    await advance(300)
    expect(s.socket.answer(1)).toEqual({ type: 'result', id: 1, data: 'done' })
    expect(s.socket.closes).toEqual([{ code: CloseCode.ServiceRestart, reason: 'server restarting' }])
    await advance(serverDefaults.closeTimeoutMs)
    await closed
  })
})
