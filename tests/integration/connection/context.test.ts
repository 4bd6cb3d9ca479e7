import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { z } from 'zod'
import { initRpc, isRpcError, RpcError, type RpcErrorCode } from '@wirecall/core'
import type { ErrorHandlerOptions } from '@wirecall/server'
import { connectClient, rawPeer, sleep, startServer, within } from '../../helpers/harness'

/**
 * Context on the call path: `createContext` once per connection with the
 * client's `connectionParams` and the upgrade request; middleware that
 * narrows the context, runs in declaration order and must return `next()`'s
 * result; and connections refused by `createContext`. The client's view of
 * the connection (`$connection.state` and its events) is in
 * client-state.test.ts.
 */

interface User {
  id: string
}
interface Ctx {
  user?: User
  params?: unknown
  tenant?: string
  remoteAddress?: string
  url?: string
}
const rpc = initRpc.context<Ctx>().create()

function makeRouter(seen: { before: unknown[]; after: unknown[]; resolverRuns: number }) {
  const authed = rpc.procedure.use(({ ctx, next }) => {
    if (!ctx.user) throw new RpcError('UNAUTHORIZED', 'sign in first')
    return next({ ctx: { user: ctx.user } })
  })
  return rpc.router({
    ctx: rpc.procedure.query(({ ctx }) => ctx),
    me: authed.query(({ ctx }) => {
      seen.resolverRuns++
      // Narrowed: `user` is no longer optional here.
      const id: string = ctx.user.id
      return { id }
    }),
    ordered: rpc.procedure
      .use(({ input, next }) => {
        seen.before.push(input)
        return next()
      })
      .input(z.object({ n: z.string().transform((s) => Number(s)) }))
      .use(({ input, next }) => {
        seen.after.push(input)
        return next()
      })
      .query(({ input }) => input.n * 2),
    forgetsResult: rpc.procedure
      .use(async ({ next }) => {
        await next()
        return undefined as never
      })
      .query(() => 'unreachable'),
    skipsNext: rpc.procedure.use(() => ({ ok: false, data: 'made up' }) as never).query(() => 'unreachable'),
  })
}
type R = ReturnType<typeof makeRouter>
const freshSeen = () => ({ before: [] as unknown[], after: [] as unknown[], resolverRuns: 0 })

async function rejection(promise: Promise<unknown>): Promise<RpcError> {
  const error = await within(
    promise.then(
      (value) => {
        throw new Error(`expected a rejection, got ${JSON.stringify(value)}`)
      },
      (e: unknown) => e,
    ),
    'the call to settle',
  )
  expect(isRpcError(error)).toBe(true)
  return error as RpcError
}

async function expectCode(promise: Promise<unknown>, code: RpcErrorCode): Promise<RpcError> {
  const error = await rejection(promise)
  expect(error.code).toBe(code)
  return error
}

describe('createContext', () => {
  it('runs once per connection, however many calls it carries', async () => {
    let runs = 0
    const { url } = await startServer({
      router: makeRouter(freshSeen()),
      createContext: () => {
        runs++
        return {}
      },
    })
    const api = connectClient<R>(url)
    await Promise.all([api.ctx.query(), api.ctx.query(), api.ctx.query()])
    for (let i = 0; i < 4; i++) await api.ctx.query()
    expect(runs).toBe(1)

    const other = connectClient<R>(url)
    await other.ctx.query()
    await api.ctx.query()
    expect(runs).toBe(2)
  })

  it('receives connectionParams given as an object, revived by the serializer', async () => {
    const { url } = await startServer({ router: makeRouter(freshSeen()), createContext: ({ connectionParams }) => ({ params: connectionParams }) })
    const api = connectClient<R>(url, { connectionParams: { token: 'abc', since: new Date(5), tags: new Set(['a']) } })
    const { params } = await api.ctx.query()
    expect(params).toEqual({ token: 'abc', since: new Date(5), tags: new Set(['a']) })
    expect((params as { since: unknown }).since).toBeInstanceOf(Date)
  })

  it('receives connectionParams from an async function, evaluated once per connect', async () => {
    let evaluated = 0
    const { url } = await startServer({ router: makeRouter(freshSeen()), createContext: ({ connectionParams }) => ({ params: connectionParams }) })
    const api = connectClient<R>(url, {
      connectionParams: async () => {
        evaluated++
        await sleep(10)
        return { token: `fresh-${evaluated}` }
      },
    })
    expect((await api.ctx.query()).params).toEqual({ token: 'fresh-1' })
    await api.ctx.query()
    expect(evaluated).toBe(1)
  })

  it('receives undefined connectionParams when the client sends none', async () => {
    const received: unknown[] = []
    const { url } = await startServer({
      router: makeRouter(freshSeen()),
      createContext: ({ connectionParams }) => {
        received.push(connectionParams)
        return {}
      },
    })
    const api = connectClient<R>(url)
    await api.ctx.query()
    expect(received).toEqual([undefined])
  })

  it('receives the upgrade request: headers, remote address, url', async () => {
    const requests: IncomingMessage[] = []
    const { url } = await startServer({
      router: makeRouter(freshSeen()),
      createContext: ({ req }) => {
        requests.push(req)
        const tenant = req.headers['x-tenant']
        return {
          ...(typeof tenant === 'string' ? { tenant } : {}),
          ...(req.socket.remoteAddress === undefined ? {} : { remoteAddress: req.socket.remoteAddress }),
          ...(req.url === undefined ? {} : { url: req.url }),
        }
      },
    })
    // `ws` (Node) can set headers that a browser cannot; a subclass passes them on.
    class WebSocketWithHeaders extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { headers: { 'x-tenant': 'acme' } })
      }
    }
    const api = connectClient<R>(`${url}?v=1`, { WebSocket: WebSocketWithHeaders })
    const ctx = await api.ctx.query()
    expect(ctx).toEqual({ tenant: 'acme', remoteAddress: '127.0.0.1', url: '/rpc?v=1' })
    expect(requests).toHaveLength(1)
    expect(requests[0]!.headers['sec-websocket-protocol']).toBe('wirecall.v1')
  })
})

describe('middleware', () => {
  it('narrows ctx: UNAUTHORIZED without a user, the resolver sees the user otherwise', async () => {
    const seen = freshSeen()
    const { url } = await startServer({
      router: makeRouter(seen),
      createContext: ({ connectionParams }) => {
        const token = (connectionParams as { token?: unknown } | undefined)?.token
        return typeof token === 'string' ? { user: { id: `user-${token}` } } : {}
      },
    })
    const signedIn = connectClient<R>(url, { connectionParams: { token: 'ada' } })
    expect(await signedIn.me.query()).toEqual({ id: 'user-ada' })
    expect(seen.resolverRuns).toBe(1)

    const anonymous = connectClient<R>(url)
    const error = await expectCode(anonymous.me.query(), 'UNAUTHORIZED')
    expect(error.message).toBe('sign in first')
    expect(seen.resolverRuns).toBe(1) // the resolver never ran
    // A per-call refusal: the connection lives.
    expect(await anonymous.ctx.query()).toEqual({})
    expect(anonymous.$connection.state).toBe('open')
  })

  it('runs in declaration order: before .input() sees the raw input, after it the validated one', async () => {
    const seen = freshSeen()
    const { url } = await startServer({ router: makeRouter(seen) })
    const api = connectClient<R>(url)
    expect(await api.ordered.query({ n: '21' })).toBe(42)
    expect(seen.before).toEqual([{ n: '21' }])
    expect(seen.after).toEqual([{ n: 21 }])

    // Invalid input: the middleware before validation runs, the one after it does not.
    const error = await expectCode(api.ordered.query({ n: 21 as never }), 'BAD_REQUEST')
    expect(error.message).not.toBe('')
    expect(seen.before).toEqual([{ n: '21' }, { n: 21 }])
    expect(seen.after).toEqual([{ n: 21 }])
  })

  it('a middleware that does not return the result of next() is an INTERNAL error', async () => {
    const errors: ErrorHandlerOptions[] = []
    const { url } = await startServer({ router: makeRouter(freshSeen()), onError: (e) => errors.push(e) })
    const api = connectClient<R>(url)
    await expectCode(api.forgetsResult.query(), 'INTERNAL')
    await expectCode(api.skipsNext.query(), 'INTERNAL')
    expect(errors.map((e) => [e.path, e.error.code])).toEqual([
      ['forgetsResult', 'INTERNAL'],
      ['skipsNext', 'INTERNAL'],
    ])
    expect(await api.ctx.query()).toEqual({})
  })
})

describe('refused connections', () => {
  it('createContext throwing UNAUTHORIZED closes with 4401 and pending calls reject with UNAUTHORIZED', async () => {
    const { url } = await startServer({
      router: makeRouter(freshSeen()),
      createContext: async () => {
        await sleep(10)
        throw new RpcError('UNAUTHORIZED', 'token expired')
      },
    })
    const peer = await rawPeer(url)
    peer.send({ type: 'init', params: { token: 'old' } })
    expect(await within(peer.closed, 'the raw peer to be closed')).toEqual({ code: 4401, reason: 'token expired' })
    expect(peer.messages).toEqual([]) // no ack

    const api = connectClient<R>(url)
    const closes: { code: number; reason: string }[] = []
    api.$connection.on('close', (info) => closes.push(info))
    const pending = [api.ctx.query(), api.me.query()]
    await Promise.all(pending.map((call) => expectCode(call, 'UNAUTHORIZED')))
    expect(closes).toEqual([{ code: 4401, reason: 'token expired' }])
    expect(api.$connection.state).toBe('closed')
    // Terminal: later calls fail the same way at once.
    await expectCode(api.ctx.query(), 'UNAUTHORIZED')
  })

  it('createContext throwing FORBIDDEN closes with 4403 and pending calls reject with FORBIDDEN', async () => {
    const { url } = await startServer({
      router: makeRouter(freshSeen()),
      createContext: () => {
        throw new RpcError('FORBIDDEN', 'banned')
      },
    })
    const peer = await rawPeer(url)
    peer.send({ type: 'init' })
    expect(await within(peer.closed, 'the raw peer to be closed')).toEqual({ code: 4403, reason: 'banned' })

    const api = connectClient<R>(url)
    await expectCode(api.ctx.query(), 'FORBIDDEN')
    expect(api.$connection.state).toBe('closed')
  })

  it('createContext throwing a plain Error closes with 4401 and does not leak its message', async () => {
    const errors: ErrorHandlerOptions[] = []
    const secret = new Error('db password is hunter2')
    const { url } = await startServer({
      router: makeRouter(freshSeen()),
      onError: (e) => errors.push(e),
      createContext: () => {
        throw secret
      },
    })
    const peer = await rawPeer(url)
    peer.send({ type: 'init' })
    const closed = await within(peer.closed, 'the raw peer to be closed')
    expect(closed.code).toBe(4401)
    expect(closed.reason).not.toContain('hunter2')

    const api = connectClient<R>(url)
    const error = await expectCode(api.ctx.query(), 'UNAUTHORIZED')
    expect(error.message).not.toContain('hunter2')
    expect(JSON.stringify(error.data)).not.toContain('hunter2')
    // The server's own log sees the original.
    expect(errors.length).toBeGreaterThanOrEqual(2)
    expect(errors[0]!.error.code).toBe('UNAUTHORIZED')
    expect(errors[0]!.error.cause).toBe(secret)
  })
})
