import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { initRpc } from '@wirecall/core'
import { SCHEMA_ENDPOINT_PATH as SERVER_PATH } from '@wirecall/server'
import { SCHEMA_ENDPOINT_PATH as CODEGEN_PATH, describeRouter } from '@wirecall/codegen'
import { buildAsyncApi } from '../../../packages/codegen/src/asyncapi/build-asyncapi'
import { buildManifest } from '../../../packages/codegen/src/manifest/build-manifest'
import { buildSchemaSet } from '../../../packages/codegen/src/schema/build-schema-set'
import { schemaEndpointProcedure } from '../../../packages/server/src/session/schema-endpoint'
import { gate, readyPeer, startServer, type RawPeer } from '../../helpers/harness'
import { richRouter } from './fixtures/rich-router'

/**
 * `createRpcServer({ schemaEndpoint: true })` on a real server over
 * 127.0.0.1: the reserved query answers the manifest and the AsyncAPI
 * document; off, it is any unknown path; on, it is any call to the limits.
 */

const UNKNOWN_PATH = 'no.such.procedure'

/** Sends one call and waits for its answer (a `result` or an `error`). */
async function call(peer: RawPeer, id: number, path: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  peer.send({ type: 'call', id, method: 'query', path, ...extra })
  return peer.next((m) => m.id === id && (m.type === 'result' || m.type === 'error'), 15_000)
}

describe('the schema endpoint', () => {
  it('is served at one reserved path, spelled the same by the server and the generator, that no router key can take', () => {
    expect(SERVER_PATH).toBe('$wirecall.describe')
    expect(CODEGEN_PATH).toBe(SERVER_PATH)
    const rpc = initRpc.create()
    const procedure = rpc.procedure.query(() => 1)
    expect(() => rpc.router({ $wirecall: { describe: procedure } } as never)).toThrow(/reserved/)
  })

  it('answers the manifest of the router and its AsyncAPI document, as the generator builds them', async () => {
    const { url } = await startServer({ router: richRouter, schemaEndpoint: true })
    const peer = await readyPeer(url)
    const answer = await call(peer, 1, SERVER_PATH)
    expect(answer.type).toBe('result')
    const { manifest, asyncapi } = answer.data as { manifest: unknown; asyncapi: Record<string, unknown> }
    const set = await buildSchemaSet(richRouter)
    expect(manifest).toEqual(buildManifest(set))
    expect(asyncapi).toEqual(buildAsyncApi(set, {}))
    expect(asyncapi.asyncapi).toMatch(/^3\./)
    expect(Object.keys((manifest as { procedures: object }).procedures).sort()).toEqual(['greet', 'post.add', 'post.byStatus', 'ticks'])
    // Built once: a second call gets the same answer.
    const again = await call(peer, 2, SERVER_PATH)
    expect(again.data).toEqual(answer.data)
  })

  it('writes the public URL of the object form into the AsyncAPI document', async () => {
    const { url } = await startServer({ router: richRouter, schemaEndpoint: { url: 'wss://api.example.com/rpc' } })
    const peer = await readyPeer(url)
    const answer = await call(peer, 1, SERVER_PATH)
    const set = await buildSchemaSet(richRouter)
    expect((answer.data as { asyncapi: unknown }).asyncapi).toEqual(buildAsyncApi(set, { url: 'wss://api.example.com/rpc' }))
  })

  it.each([
    ['left out', undefined],
    ['false', false],
  ] as const)('is an unknown path like any other when the option is %s', async (_, schemaEndpoint) => {
    const { url } = await startServer({ router: richRouter, ...(schemaEndpoint === undefined ? {} : { schemaEndpoint }) })
    const peer = await readyPeer(url)
    const reserved = await call(peer, 1, SERVER_PATH)
    const unknown = await call(peer, 2, UNKNOWN_PATH)
    expect(reserved).toEqual({ ...unknown, id: 1, message: (unknown.message as string).replace(UNKNOWN_PATH, SERVER_PATH) })
    expect(reserved).toEqual({ type: 'error', id: 1, code: 'NOT_FOUND', message: `no procedure at "${SERVER_PATH}"` })
    peer.send({ type: 'subscribe', id: 3, path: SERVER_PATH })
    peer.send({ type: 'subscribe', id: 4, path: UNKNOWN_PATH })
    const [subscribed, unknownSubscribed] = await Promise.all([3, 4].map((id) => peer.next((m) => m.id === id)))
    expect(subscribed!.code).toBe(unknownSubscribed!.code)
  })
})

describe('a describe call is held to what any call is held to', () => {
  it('is a query: a mutation or a subscription at its path is refused as for any query', async () => {
    const { url } = await startServer({ router: richRouter, schemaEndpoint: true })
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'mutation', path: SERVER_PATH })
    peer.send({ type: 'subscribe', id: 2, path: SERVER_PATH })
    peer.send({ type: 'call', id: 3, method: 'mutation', path: 'greet' })
    const [mutation, subscription, greet] = await Promise.all([1, 2, 3].map((id) => peer.next((m) => m.id === id)))
    expect(mutation).toMatchObject({ type: 'error', code: 'METHOD_NOT_SUPPORTED', message: `"${SERVER_PATH}" is a query, not a mutation` })
    expect(subscription).toMatchObject({ type: 'error', code: 'METHOD_NOT_SUPPORTED', message: `"${SERVER_PATH}" is a query, not a subscription` })
    expect(greet).toMatchObject({ type: 'error', code: 'METHOD_NOT_SUPPORTED' })
  })

  it('gets the input bounds: a hostile input is BAD_REQUEST before anything is built', async () => {
    const { url } = await startServer({ router: richRouter, schemaEndpoint: true, payloadLimits: { maxDepth: 8 } })
    const peer = await readyPeer(url)
    let deep: unknown = 'x'
    for (let depth = 0; depth < 20; depth++) deep = [deep]
    const describe = await call(peer, 1, SERVER_PATH, { input: deep })
    const greet = await call(peer, 2, 'greet', { input: deep })
    expect(describe).toMatchObject({ type: 'error', code: 'BAD_REQUEST' })
    expect(describe.message).toBe(greet.message)
    const badMeta = await call(peer, 3, SERVER_PATH, { input: 1, meta: { values: ['custom', 'nope'] } })
    expect(badMeta).toMatchObject({ type: 'error', code: 'BAD_REQUEST' })
  })

  it('counts against maxInFlightCalls', async () => {
    const hold = gate()
    const rpc = initRpc.create()
    const router = rpc.router({ hang: rpc.procedure.query(() => hold.opened) })
    const { url } = await startServer({ router, schemaEndpoint: true, maxInFlightCalls: 1 })
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'query', path: 'hang' })
    const refused = await call(peer, 2, SERVER_PATH)
    expect(refused).toEqual({ type: 'error', id: 2, code: 'TOO_MANY_REQUESTS', message: 'at most 1 calls in flight per connection' })
    hold.open()
    await peer.next((m) => m.id === 1)
  })

  it('counts against the rate limit', async () => {
    const { url } = await startServer({ router: richRouter, schemaEndpoint: true, rateLimit: { messagesPerSecond: 1, burst: 2 } })
    const peer = await readyPeer(url)
    // init took one token, this call the last one.
    await call(peer, 1, 'greet', { input: { name: 'a' } })
    const limited = await call(peer, 2, SERVER_PATH)
    expect(limited).toMatchObject({ type: 'error', code: 'TOO_MANY_REQUESTS' })
  })

  it('closes an oversized describe frame with 1009, as any frame over maxPayload', async () => {
    const { url } = await startServer({ router: richRouter, schemaEndpoint: true, maxPayload: 1_024 })
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'query', path: SERVER_PATH, input: 'x'.repeat(2_000) })
    expect((await peer.closed).code).toBe(1009)
  })
})

describe('loading the generator', () => {
  it('happens once, on the first call, however many calls come', async () => {
    let loads = 0
    const procedure = schemaEndpointProcedure(richRouter, {}, () => {
      loads++
      return import('@wirecall/codegen')
    })
    const rpc = initRpc.create()
    expect(loads).toBe(0)
    const router = rpc.router({ describe: procedure })
    const { url } = await startServer({ router })
    const peer = await readyPeer(url)
    const answers = await Promise.all([1, 2, 3].map((id) => call(peer, id, 'describe')))
    expect(loads).toBe(1)
    expect(answers.map((a) => a.type)).toEqual(['result', 'result', 'result'])
    expect(answers[1]!.data).toEqual(answers[0]!.data)
    expect(answers[0]!.data).toEqual(await describeRouter(richRouter).then(({ manifest, asyncapi }) => ({ manifest, asyncapi })))
  })

  it('answers a masked INTERNAL, not the install hint, when the generator is there but cannot load (a dependency of its own is missing)', async () => {
    const procedure = schemaEndpointProcedure(richRouter, {}, () => import(['@wirecall', 'codegen-not-installed'].join('/')))
    const rpc = initRpc.create()
    const { url } = await startServer({ router: rpc.router({ describe: procedure }) })
    const peer = await readyPeer(url)
    const answer = await call(peer, 1, 'describe')
    expect(answer).toMatchObject({ type: 'error', code: 'INTERNAL' })
  })

  it('keeps a real import() in the CommonJS build, so the generator is resolved only when asked for', () => {
    const cjs = readFileSync(new URL('../../../packages/server/dist/index.cjs', import.meta.url), 'utf8')
    expect(cjs).toMatch(/=> import\(CODEGEN\)/)
    expect(cjs).not.toMatch(/require\(\s*(CODEGEN|["']@wirecall\/codegen["'])\s*\)/)
  })
})
