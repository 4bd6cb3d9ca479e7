import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ERROR_CODES, initRpc, isRpcError, jsonSerializer, RpcError, type RpcErrorCode } from '@wirecall/core'
import type { ErrorHandlerOptions, RpcServerOptions } from '@wirecall/server'
import { connectClient, readyPeer, rpcErrorOf, startServer } from '../../helpers/harness'

/**
 * Every way an error reaches a caller of a query or mutation: thrown
 * `RpcError`s, unexpected exceptions (masked), routing failures, failures on
 * the client side, and results that cannot be serialized. After each, the
 * same connection keeps working.
 */

type Ctx = { user: string }
const rpc = initRpc.context<Ctx>().create()
const CODES = Object.keys(ERROR_CODES) as RpcErrorCode[]

/** A promise with its resolver outside. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** `promise`, or a rejection if it has not settled within `ms` (a hang is a failure, not a timeout of the whole test). */
function bounded<T>(promise: Promise<T>, what: string, ms = 3_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

const richData = (code: string) => ({
  code,
  at: new Date(1_700_000_000_000),
  ids: new Set([1n, 2n ** 70n]),
  nested: { list: [undefined, 1], byKey: new Map([['k', new Date(0)]]) },
})

/** What the crash procedure throws, by index. None of it may reach a caller. */
const crashes: (() => unknown)[] = [
  () => new Error('db password is hunter2'),
  () => {
    try {
      return (undefined as unknown as { hunter2: { x: number } }).hunter2.x
    } catch (e) {
      return e
    }
  },
  () => 'hunter2 as a string',
  () => ({ secret: 'hunter2' }),
  () => null,
  () => undefined,
  () => 42,
  () => Object.assign(new Error('hunter2 with props'), { code: 'NOT_FOUND', data: { password: 'hunter2' } }),
  () => ({ name: 'RpcError', code: 'NOT_FOUND', message: 'hunter2 pretending', data: 'hunter2' }),
]

/** The last value the crash procedure threw, to check `onError` gets the very same one. */
let lastThrown: unknown
/** The thrown instance of the last `fail` call. */
let lastRpcError: RpcError | undefined
/** Resolver runs by path. */
const runs = new Map<string, number>()
const ran = (path: string) => runs.set(path, (runs.get(path) ?? 0) + 1)
const runsOf = (path: string) => runs.get(path) ?? 0
/** Upgrade requests by connection, to cut a connection from the server side. */
let lastReq: IncomingMessage | undefined
/** Signals of `hang` calls, in order. */
const hangSignals: AbortSignal[] = []
let hangStarted = deferred()

const circular = () => {
  const o: Record<string, unknown> = { name: 'loop' }
  o.self = o
  return o
}

const router = rpc.router({
  ok: rpc.procedure.query(() => 'ok' as const),
  fail: rpc.procedure
    .input(z.object({ code: z.enum(CODES as [RpcErrorCode, ...RpcErrorCode[]]), message: z.string().optional(), withData: z.boolean() }))
    .mutation(({ input }) => {
      lastRpcError = new RpcError(input.code, input.message, input.withData ? { data: richData(input.code) } : {})
      throw lastRpcError
    }),
  failInMiddleware: rpc.procedure
    .use(() => {
      throw new RpcError('FORBIDDEN', 'admins only', { data: { role: 'guest', since: new Date(3) } })
    })
    .query(() => 'unreachable'),
  failAsync: rpc.procedure.mutation(async () => {
    await new Promise((resolve) => setImmediate(resolve))
    throw new RpcError('CONFLICT', 'version mismatch', { data: { expected: 3n, actual: 4n } })
  }),
  withCause: rpc.procedure.mutation(() => {
    throw new RpcError('PRECONDITION_FAILED', 'stale', { cause: new Error('secret cause hunter2') })
  }),
  crash: rpc.procedure.input(z.number().int()).mutation(async ({ input }) => {
    await Promise.resolve()
    lastThrown = crashes[input]!()
    throw lastThrown
  }),
  write: rpc.procedure.mutation(() => {
    ran('write')
    return 'written'
  }),
  read: rpc.procedure.query(() => {
    ran('read')
    return 'read'
  }),
  stream: rpc.procedure.subscription(async function* () {
    ran('stream')
    yield 1
  }),
  nested: {
    leaf: rpc.procedure.query(() => 'leaf'),
  },
  hang: rpc.procedure.query(({ signal }) => {
    hangSignals.push(signal)
    hangStarted.resolve()
    return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }))
  }),
  dropMe: rpc.procedure.mutation(({ signal }) => {
    lastReq!.socket.destroy()
    return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }))
  }),
  unserializable: rpc.procedure.query(() => ({
    fine: 1,
    get boom(): number {
      throw new Error('getter hunter2')
    },
  })),
  oddCode: rpc.procedure.query(() => {
    throw new RpcError('TEAPOT' as RpcErrorCode, 'short and stout')
  }),
  circular: rpc.procedure.query(() => circular()),
  big: rpc.procedure.query(() => ({ n: 10n })),
  badErrorData: rpc.procedure.input(z.enum(['circular', 'bigint'])).mutation(({ input }) => {
    throw new RpcError('CONFLICT', 'conflicting', { data: input === 'circular' ? circular() : { n: 1n } })
  }),
})
type R = typeof router

async function setup(options: Partial<Pick<RpcServerOptions<R>, 'exposeInternalErrors' | 'serializer' | 'onError'>> = {}) {
  const errors: ErrorHandlerOptions[] = []
  const contexts: Ctx[] = []
  const { server, url } = await startServer({
    router,
    createContext: ({ req }) => {
      lastReq = req
      const ctx = { user: 'ada' }
      contexts.push(ctx)
      return ctx
    },
    onError: (opts) => errors.push(opts),
    ...options,
  })
  const api = connectClient<R>(url, options.serializer === undefined ? {} : { serializer: options.serializer })
  /** A following call succeeds on the same single connection. */
  const stillWorks = async () => {
    expect(await api.ok.query()).toBe('ok')
    expect(server.connectionCount).toBe(1)
  }
  return { api, url, server, errors, contexts, stillWorks }
}

/** Calls `path` through the typed proxy as if the router had it. */
function callAt(api: object, path: string, method: 'query' | 'mutate', input?: unknown): Promise<unknown> {
  let node: unknown = api
  for (const segment of path.split('.')) node = (node as Record<string, unknown>)[segment]
  return (node as Record<'query' | 'mutate', (input?: unknown) => Promise<unknown>>)[method](input)
}

describe('RpcError thrown on the server', () => {
  it.each(CODES)('%s arrives with the same code, message and rich data', async (code) => {
    const { api, stillWorks } = await setup()
    const error = await rpcErrorOf(api.fail.mutate({ code, message: `failed with ${code}`, withData: true }))
    expect(error.code).toBe(code)
    expect(error.message).toBe(`failed with ${code}`)
    expect(error.name).toBe('RpcError')
    expect(error.data).toEqual(richData(code))
    const data = error.data as ReturnType<typeof richData>
    expect(data.at).toBeInstanceOf(Date)
    expect(data.ids).toBeInstanceOf(Set)
    expect([...data.ids]).toEqual([1n, 2n ** 70n])
    expect(data.nested.byKey.get('k')).toBeInstanceOf(Date)
    expect(error.retryable).toBe(ERROR_CODES[code].retryable)
    expect(error.httpStatus).toBe(ERROR_CODES[code].httpStatus)
    await stillWorks()
  })

  it('without a message or data: the message is the code and data is undefined', async () => {
    const { api, url, stillWorks } = await setup()
    const error = await rpcErrorOf(api.fail.mutate({ code: 'NOT_FOUND', withData: false }))
    expect(error.code).toBe('NOT_FOUND')
    expect(error.message).toBe('NOT_FOUND')
    expect(error.data).toBeUndefined()
    await stillWorks()

    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'mutation', path: 'fail', input: { code: 'CONFLICT', withData: false } })
    expect(await peer.next((m) => m.id === 1)).toEqual({ type: 'error', id: 1, code: 'CONFLICT', message: 'CONFLICT' })
  })

  it('thrown from middleware or after an await, it arrives the same', async () => {
    const { api, stillWorks } = await setup()
    const forbidden = await rpcErrorOf(api.failInMiddleware.query())
    expect(forbidden.code).toBe('FORBIDDEN')
    expect(forbidden.message).toBe('admins only')
    expect(forbidden.data).toEqual({ role: 'guest', since: new Date(3) })
    const conflict = await rpcErrorOf(api.failAsync.mutate())
    expect(conflict.code).toBe('CONFLICT')
    expect(conflict.data).toEqual({ expected: 3n, actual: 4n })
    await stillWorks()
  })

  it('its cause stays on the server', async () => {
    const { api, url, errors, stillWorks } = await setup()
    const error = await rpcErrorOf(api.withCause.mutate())
    expect(error.code).toBe('PRECONDITION_FAILED')
    expect(error.message).toBe('stale')
    expect(error.cause).toBeUndefined()
    expect(error.data).toBeUndefined()
    expect((errors[0]!.error.cause as Error).message).toBe('secret cause hunter2')
    await stillWorks()

    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'mutation', path: 'withCause' })
    const frame = await peer.next((m) => m.id === 1)
    expect(frame).toEqual({ type: 'error', id: 1, code: 'PRECONDITION_FAILED', message: 'stale' })
  })
})

describe('unexpected exceptions', () => {
  it('an RpcError with a code outside the table (untyped JS) is sent as INTERNAL', async () => {
    const { api, url, stillWorks } = await setup()
    const error = await rpcErrorOf(api.oddCode.query())
    expect(error.code).toBe('INTERNAL')
    await stillWorks()
    // Other-language clients read the wire: its code must come from the documented table too.
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'query', path: 'oddCode' })
    const frame = await peer.next((m) => m.id === 1)
    expect(frame.type).toBe('error')
    expect(Object.keys(ERROR_CODES)).toContain(frame.code)
  })


  it('become INTERNAL "Internal server error" with no data, whatever was thrown', async () => {
    const { api, url, stillWorks } = await setup()
    for (const [index] of crashes.entries()) {
      const error = await rpcErrorOf(api.crash.mutate(index))
      expect({ index, code: error.code, message: error.message, data: error.data }).toEqual({
        index,
        code: 'INTERNAL',
        message: 'Internal server error',
        data: undefined,
      })
      expect(error.cause).toBeUndefined()
      expect(String(error.stack)).not.toContain('hunter2')
      await stillWorks()
    }

    // On the wire: exactly the envelope, nothing else.
    const peer = await readyPeer(url)
    for (const [index] of crashes.entries()) peer.send({ type: 'call', id: 100 + index, method: 'mutation', path: 'crash', input: index })
    for (const [index] of crashes.entries()) {
      const frame = await peer.next((m) => m.id === 100 + index)
      expect(frame).toEqual({ type: 'error', id: 100 + index, code: 'INTERNAL', message: 'Internal server error' })
    }
    expect(JSON.stringify(peer.messages)).not.toContain('hunter2')
  })

  it('with exposeInternalErrors, the message and stack are sent', async () => {
    const { api, stillWorks } = await setup({ exposeInternalErrors: true })
    const error = await rpcErrorOf(api.crash.mutate(0))
    expect(error.code).toBe('INTERNAL')
    expect(error.message).toBe('db password is hunter2')
    const stack = (error.data as { stack?: unknown } | undefined)?.stack
    expect(typeof stack).toBe('string')
    expect(stack as string).toContain('db password is hunter2')

    const fromString = await rpcErrorOf(api.crash.mutate(2))
    expect(fromString.code).toBe('INTERNAL')
    expect(fromString.message).toBe('hunter2 as a string')
    expect(fromString.data).toBeUndefined()

    // RpcErrors are not affected by the option.
    const notFound = await rpcErrorOf(api.fail.mutate({ code: 'NOT_FOUND', message: 'gone', withData: false }))
    expect([notFound.code, notFound.message, notFound.data]).toEqual(['NOT_FOUND', 'gone', undefined])
    await stillWorks()
  })

  it('onError sees the original as cause, with path, type, ctx and req', async () => {
    const { api, errors, contexts, stillWorks } = await setup()
    await stillWorks()
    expect(errors).toEqual([])

    await rpcErrorOf(api.crash.mutate(0))
    expect(errors).toHaveLength(1)
    const crash = errors[0]!
    expect(crash.error).toBeInstanceOf(RpcError)
    expect(crash.error.code).toBe('INTERNAL')
    expect(crash.error.cause).toBe(lastThrown)
    expect((crash.error.cause as Error).message).toBe('db password is hunter2')
    expect(crash.path).toBe('crash')
    expect(crash.type).toBe('mutation')
    expect(crash.ctx).toBe(contexts[0])
    expect(crash.req.headers['sec-websocket-protocol']).toContain('wirecall.v1')

    await rpcErrorOf(api.crash.mutate(3))
    expect(errors[1]!.error.cause).toBe(lastThrown)
    expect(errors[1]!.error.cause).toEqual({ secret: 'hunter2' })

    await rpcErrorOf(api.fail.mutate({ code: 'CONFLICT', withData: true }))
    expect(errors[2]!.error).toBe(lastRpcError)
    expect(errors[2]!.path).toBe('fail')

    await rpcErrorOf(api.failInMiddleware.query())
    expect(errors[3]!.error.code).toBe('FORBIDDEN')
    expect(errors[3]!.type).toBe('query')

    await rpcErrorOf(callAt(api, 'no.such.thing', 'query'))
    expect(errors[4]!.error.code).toBe('NOT_FOUND')
    expect(errors[4]!.path).toBe('no.such.thing')
    expect(errors[4]!.type).toBe('query')
    expect(errors[4]!.ctx).toBe(contexts[0])

    await stillWorks()
    expect(errors).toHaveLength(5)
  })

  it('a throwing onError breaks nothing', async () => {
    let calls = 0
    const { api, stillWorks } = await setup({
      onError: () => {
        calls++
        throw new Error('logger exploded')
      },
    })
    expect((await rpcErrorOf(api.crash.mutate(0))).code).toBe('INTERNAL')
    await stillWorks()
    expect((await rpcErrorOf(api.fail.mutate({ code: 'CONFLICT', message: 'c', withData: true }))).data).toEqual(richData('CONFLICT'))
    expect((await rpcErrorOf(callAt(api, 'missing', 'mutate'))).code).toBe('NOT_FOUND')
    await stillWorks()
    expect(calls).toBe(3)
  })
})

describe('an async onError that rejects', () => {
  it('is not an unhandled rejection and breaks nothing', async () => {
    let calls = 0
    const { api, stillWorks } = await setup({
      onError: async () => {
        calls++
        throw new Error('async logger exploded')
      },
    })
    expect((await rpcErrorOf(api.crash.mutate(0))).code).toBe('INTERNAL')
    await stillWorks()
    expect(calls).toBe(1)
  })
})

describe('routing errors', () => {
  it('an unknown path is NOT_FOUND', async () => {
    const { api, errors, stillWorks } = await setup()
    for (const path of ['missing', 'nested.missing', 'nested', 'nested.leaf.extra', 'ok.query', 'NESTED.LEAF', 'x'.repeat(1000)]) {
      for (const method of ['query', 'mutate'] as const) {
        const error = await rpcErrorOf(callAt(api, path, method))
        expect({ path, method, code: error.code }).toEqual({ path, method, code: 'NOT_FOUND' })
        expect(error.data).toBeUndefined()
        await stillWorks()
      }
    }
    expect(errors.every((e) => e.error.code === 'NOT_FOUND')).toBe(true)
    // Long paths are cut in the message.
    expect(errors[errors.length - 1]!.error.message.length).toBeLessThan(200)
  })

  const prototypePaths = [
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'isPrototypeOf',
    '__defineGetter__',
    'prototype',
    'a.__proto__.b',
    '__proto__.toString',
    'constructor.prototype',
    'nested.__proto__',
    'nested.constructor',
    'nested.leaf.constructor',
    'ok.__proto__',
  ]

  it('prototype-ish paths through the typed client are NOT_FOUND', async () => {
    const { api, stillWorks } = await setup()
    for (const path of prototypePaths) {
      for (const method of ['query', 'mutate'] as const) {
        const error = await rpcErrorOf(callAt(api, path, method, { x: 1 }))
        expect({ path, method, code: error.code }).toEqual({ path, method, code: 'NOT_FOUND' })
      }
    }
    await stillWorks()
    expect(({} as Record<string, unknown>).x).toBeUndefined()
  })

  it('prototype-ish paths in raw frames are NOT_FOUND and the connection lives', async () => {
    const { api, url, server } = await setup()
    const peer = await readyPeer(url)
    await api.ok.query()
    // The typed client's connection and the raw peer's.
    expect(server.connectionCount).toBe(2)
    let id = 0
    const expected: Record<string, unknown>[] = []
    for (const path of prototypePaths) {
      for (const method of ['query', 'mutation']) {
        id++
        peer.send({ type: 'call', id, method, path, input: { polluted: true } })
        expected.push({ id, path, method, type: 'error', code: 'NOT_FOUND' })
      }
    }
    peer.send({ type: 'call', id: ++id, method: 'query', path: 'ok' })
    expect(await peer.next((m) => m.id === id)).toEqual({ type: 'result', id, data: 'ok' })
    const got = expected.map((e) => {
      const frame = peer.messages.find((m) => m.id === e.id)
      return { ...e, type: frame?.type, code: frame?.code }
    })
    expect(got).toEqual(expected)
    expect(server.connectionCount).toBe(2)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('calling with the wrong method is METHOD_NOT_SUPPORTED and the resolver never runs', async () => {
    const { api, stillWorks } = await setup()
    const cases = [
      { path: 'write', method: 'query' as const },
      { path: 'read', method: 'mutate' as const },
      { path: 'stream', method: 'query' as const },
      { path: 'stream', method: 'mutate' as const },
    ]
    for (const { path, method } of cases) {
      const error = await rpcErrorOf(callAt(api, path, method))
      expect({ path, method, code: error.code }).toEqual({ path, method, code: 'METHOD_NOT_SUPPORTED' })
      await stillWorks()
    }
    expect([runsOf('write'), runsOf('read'), runsOf('stream')]).toEqual([0, 0, 0])
    expect(await api.write.mutate()).toBe('written')
    expect(await api.read.query()).toBe('read')
  })
})

describe('errors made on the client side are RpcErrors too', () => {
  it('TIMEOUT: the call rejects and the server is told to stop', async () => {
    const { api, stillWorks } = await setup()
    hangStarted = deferred()
    const before = hangSignals.length
    const error = await rpcErrorOf(api.hang.query(undefined, { timeoutMs: 50 }))
    expect(error.code).toBe('TIMEOUT')
    await bounded(hangStarted.promise, 'the hang call to start')
    const signal = hangSignals[before]!
    await bounded(
      new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve()))),
      'the server to abort the timed-out call',
    )
    await stillWorks()
  })

  it('CANCELLED: aborting a call in flight rejects it and cancels it on the server', async () => {
    const { api, stillWorks } = await setup()
    hangStarted = deferred()
    const before = hangSignals.length
    const controller = new AbortController()
    const pending = api.hang.query(undefined, { signal: controller.signal })
    await bounded(hangStarted.promise, 'the hang call to start')
    controller.abort()
    const error = await rpcErrorOf(pending)
    expect(error.code).toBe('CANCELLED')
    const signal = hangSignals[before]!
    await bounded(
      new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve()))),
      'the server to abort the cancelled call',
    )
    await stillWorks()

    // An already-aborted signal never reaches the server.
    const writes = runsOf('write')
    const early = await rpcErrorOf(api.write.mutate(undefined, { signal: AbortSignal.abort() }))
    expect(early.code).toBe('CANCELLED')
    await stillWorks()
    expect(runsOf('write')).toBe(writes)
  })

  it('BAD_REQUEST: an input that cannot be serialized never leaves the client', async () => {
    const { api, errors, stillWorks } = await setup()
    const input = {
      get boom(): number {
        throw new Error('cannot read')
      },
    }
    const error = await rpcErrorOf(callAt(api, 'write', 'mutate', input))
    expect(error.code).toBe('BAD_REQUEST')
    await stillWorks()
    expect(errors).toEqual([])
  })

  it('CONNECTION_LOST: a mutation in flight when the socket drops rejects; the next call reconnects', async () => {
    const { api, server } = await setup()
    await api.ok.query()
    const error = await rpcErrorOf(api.dropMe.mutate())
    expect(error.code).toBe('CONNECTION_LOST')
    expect(await api.ok.query()).toBe('ok')
    expect(server.connectionCount).toBe(1)
  })

  it('CANCELLED: a call on a closed client', async () => {
    const { api } = await setup()
    await api.ok.query()
    await api.$connection.close()
    const error = await rpcErrorOf(api.ok.query())
    expect(error.code).toBe('CANCELLED')
    expect(isRpcError(error)).toBe(true)
  })
})

describe('results that cannot be serialized', () => {
  it('fail that call with INTERNAL, not the connection (default serializer)', async () => {
    const { api, errors, stillWorks } = await setup()
    const error = await rpcErrorOf(api.unserializable.query())
    expect(error.code).toBe('INTERNAL')
    expect(error.data).toBeUndefined()
    expect(error.message).not.toContain('hunter2')
    await stillWorks()
    expect(errors).toHaveLength(1)
    expect(errors[0]!.error.code).toBe('INTERNAL')
    expect(errors[0]!.path).toBe('unserializable')
    expect((errors[0]!.error.cause as Error).message).toBe('getter hunter2')
  })

  it('fail that call with INTERNAL, not the connection (jsonSerializer: circular, BigInt)', async () => {
    const { api, errors, stillWorks } = await setup({ serializer: jsonSerializer })
    await stillWorks()
    for (const call of [() => api.circular.query(), () => api.big.query()]) {
      const error = await rpcErrorOf(call())
      expect(error.code).toBe('INTERNAL')
      expect(error.data).toBeUndefined()
      await stillWorks()
    }
    expect(errors.map((e) => [e.path, e.error.code])).toEqual([
      ['circular', 'INTERNAL'],
      ['big', 'INTERNAL'],
    ])
  })

  it('error data that cannot be serialized is dropped; the code and message still arrive', async () => {
    const { api, stillWorks } = await setup({ serializer: jsonSerializer })
    for (const kind of ['circular', 'bigint'] as const) {
      const error = await rpcErrorOf(api.badErrorData.mutate(kind))
      expect([error.code, error.message, error.data]).toEqual(['CONFLICT', 'conflicting', undefined])
      await stillWorks()
    }
  })
})
