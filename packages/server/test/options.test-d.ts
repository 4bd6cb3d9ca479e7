import type { IncomingMessage } from 'node:http'
import { describe, expectTypeOf, it } from 'vitest'
import { initRpc } from '@wirecall/core'
import { createRpcServer, type CreateContextOptions, type RpcServer, type RpcServerOptions } from '@wirecall/server'

const bare = initRpc.create()
const bareRouter = bare.router({ ping: bare.procedure.query(() => 'pong') })

const optional = initRpc.context<{ user?: string }>().create()
const optionalRouter = optional.router({ me: optional.procedure.query(({ ctx }) => ctx.user ?? null) })

type Session = { user: { id: string }; roles: string[] }
const required = initRpc.context<Session>().create()
const requiredRouter = required.router({ me: required.procedure.query(({ ctx }) => ctx.user.id) })

describe('createRpcServer options', () => {
  it('returns an RpcServer', () => {
    expectTypeOf(createRpcServer({ router: bareRouter })).toEqualTypeOf<RpcServer>()
  })

  it('allows leaving createContext out when every context key is optional', () => {
    createRpcServer({ router: bareRouter })
    createRpcServer({ router: optionalRouter })
    createRpcServer({ router: optionalRouter, maxPayload: 1024, initTimeoutMs: 1_000 })
  })

  it('requires createContext when the context has a required key', () => {
    // @ts-expect-error createContext is missing and the context needs `user` and `roles`
    createRpcServer({ router: requiredRouter })
    // @ts-expect-error createContext is missing, even with other options
    createRpcServer({ router: requiredRouter, maxPayload: 1024 })
    expectTypeOf<RpcServerOptions<typeof requiredRouter>>().toHaveProperty('createContext')
    expectTypeOf<RpcServerOptions<typeof requiredRouter>['createContext']>().not.toBeNullable()
  })

  it('accepts createContext returning the context, sync or async', () => {
    createRpcServer({ router: requiredRouter, createContext: () => ({ user: { id: '1' }, roles: [] }) })
    createRpcServer({
      router: requiredRouter,
      createContext: async ({ req, connectionParams }) => {
        expectTypeOf(req).toEqualTypeOf<IncomingMessage>()
        expectTypeOf(connectionParams).toBeUnknown()
        return { user: { id: String(req.headers['x-user']) }, roles: ['admin'] }
      },
    })
    createRpcServer({ router: optionalRouter, createContext: () => ({ user: 'ada' }) })
    createRpcServer({ router: optionalRouter, createContext: async () => ({}) })
    expectTypeOf<Parameters<NonNullable<RpcServerOptions<typeof requiredRouter>['createContext']>>>().toEqualTypeOf<
      [opts: CreateContextOptions]
    >()
  })

  it('rejects createContext returning the wrong shape', () => {
    // @ts-expect-error `roles` is missing
    createRpcServer({ router: requiredRouter, createContext: () => ({ user: { id: '1' } }) })
    // @ts-expect-error `user.id` must be a string
    createRpcServer({ router: requiredRouter, createContext: () => ({ user: { id: 1 }, roles: [] }) })
    // @ts-expect-error async: `roles` is missing
    createRpcServer({ router: requiredRouter, createContext: async () => ({ user: { id: '1' } }) })
    // @ts-expect-error may not resolve to undefined
    createRpcServer({ router: requiredRouter, createContext: async () => undefined })
    // @ts-expect-error `user` must be a string when present
    createRpcServer({ router: optionalRouter, createContext: () => ({ user: 42 }) })
    // @ts-expect-error a context is an object, not a string
    createRpcServer({ router: optionalRouter, createContext: () => 'ada' })
  })

  it('rejects a router that is not a router', () => {
    // @ts-expect-error a plain record is not a router
    createRpcServer({ router: { ping: bare.procedure.query(() => 'pong') } })
    // @ts-expect-error router is required
    createRpcServer({ createContext: () => ({}) })
  })

  it('checks the other options', () => {
    // @ts-expect-error maxPayload is a number of bytes
    createRpcServer({ router: bareRouter, maxPayload: '1mb' })
    // @ts-expect-error unknown option
    createRpcServer({ router: bareRouter, maxPayloadBytes: 1 })
  })
})

describe('limits and flow-control options', () => {
  it('accepts every limit, and the forms each one takes', () => {
    createRpcServer({
      router: bareRouter,
      backpressure: { highWaterMark: 1, lowWaterMark: 1, maxBufferedAmount: 1, slowConsumerTimeoutMs: 1 },
      maxInFlightCalls: 10,
      maxSubscriptions: 10,
      rateLimit: { messagesPerSecond: 10, burst: 20 },
      allowedOrigins: ['https://app.example.com'],
      maxConnections: 10,
      maxConnectionsPerIp: 2,
      maxConnectionParamsBytes: 1_024,
      payloadLimits: { maxDepth: 8, maxBigIntDigits: 10, maxReferencePaths: 10, allowAnnotations: ['regexp', 'class'] },
      perMessageDeflate: true,
      keepAlive: false,
    })
    createRpcServer({ router: bareRouter, rateLimit: false, allowedOrigins: (origin, req) => origin === undefined && req.headers.host !== undefined })
    expectTypeOf<Parameters<Extract<RpcServerOptions<typeof bareRouter>['allowedOrigins'], Function>>>().toEqualTypeOf<
      [origin: string | undefined, req: IncomingMessage]
    >()
  })

  it('refuses annotations that do not exist and rate limits given as a number', () => {
    // @ts-expect-error not an annotation a server can opt in to
    createRpcServer({ router: bareRouter, payloadLimits: { allowAnnotations: ['Date'] } })
    // @ts-expect-error rateLimit is an object or false
    createRpcServer({ router: bareRouter, rateLimit: 100 })
  })

  it('reports what it holds through stats()', () => {
    expectTypeOf(createRpcServer({ router: bareRouter }).stats()).toEqualTypeOf<{
      connections: number
      inFlightCalls: number
      subscriptions: number
      unwinding: number
      idempotencyKeys: number
      peerCalls: number
    }>()
  })
})
