import { Parser } from '@asyncapi/parser'
import { CLOSE_CODES, ERROR_CODES } from '@wirecall/core'
import { buildAsyncApi, CliError, type JsonSchema, type SchemaSet } from '@wirecall/codegen'
import { describe, expect, it } from 'vitest'
import { buildSchemaSet } from '../../../packages/codegen/src/schema/build-schema-set'
import { schemaSets } from './fixtures/schema-sets'
import { shopRouter } from './fixtures/shop-router'

/** AsyncAPI's own parser on the documents of several routers: zero diagnostics of severity error. */

const parser = new Parser()
// @asyncapi/parser's DiagnosticSeverity: Error = 0, Warning = 1, Information = 2, Hint = 3.
const ERROR = 0
const WARNING = 1

async function diagnose(document: JsonSchema) {
  const { diagnostics } = await parser.parse(JSON.stringify(document))
  return {
    errors: diagnostics.filter((d) => d.severity === ERROR).map((d) => `${d.code} ${d.message} at ${d.path.join('/')}`),
    warnings: diagnostics.filter((d) => d.severity === WARNING).map((d) => `${d.code}: ${d.message}`),
  }
}

const all: SchemaSet = { procedures: Object.values(schemaSets).flatMap((set) => set.procedures), warnings: [] }

describe('the AsyncAPI document, through @asyncapi/parser', () => {
  it.each([...Object.entries(schemaSets), ['all together', all] as const])('%s: no errors', async (name, set) => {
    // Each parse takes about a second: every URL form for the whole set, one per fixture.
    for (const url of name === 'all together' ? ['ws://127.0.0.1:3000/rpc', 'wss://api.example.com/ws', undefined] : ['ws://127.0.0.1:3000/rpc']) {
      const { errors, warnings } = await diagnose(buildAsyncApi(set, { url, title: `fixture ${name}`, version: '1.2.3' }))
      console.log(`${name} (${url ?? 'placeholder server'}): ${errors.length} errors, ${warnings.length} warnings${warnings.length > 0 ? `: ${[...new Set(warnings)].join('; ')}` : ''}`)
      expect(errors).toEqual([])
    }
  })

  it('a zod router through buildSchemaSet (rich types, idempotent mutation, subscriptions): no errors', async () => {
    const { errors, warnings } = await diagnose(buildAsyncApi(await buildSchemaSet(shopRouter()), { url: 'ws://127.0.0.1:3000/rpc' }))
    console.log(`shop router: ${errors.length} errors, ${warnings.length} warnings`)
    expect(errors).toEqual([])
  })

  it('the parser does read the embedded payload schemas: a broken one is an error', async () => {
    const doc = buildAsyncApi(schemaSets.queriesOnly!) as any
    doc.components.messages['call.greet'].payload.schema.properties.input = { type: 'no-such-type' }
    expect((await diagnose(doc)).errors).not.toEqual([])
  })

  it('one channel holding every message, each with a correlation id where it has an id', () => {
    const doc = buildAsyncApi(all, { url: 'ws://127.0.0.1:3000/rpc' }) as any
    expect(Object.keys(doc.channels)).toEqual(['wirecall'])
    const messages = doc.components.messages as Record<string, any>
    expect(Object.keys(doc.channels.wirecall.messages)).toEqual(Object.keys(messages))
    for (const key of ['init', 'ack', 'error', 'cancel', 'reinit', 'reinitResult', 'restart', 'ping', 'pong', 'clientBatch', 'serverBatch']) expect(messages).toHaveProperty([key])
    for (const path of ['greet', 'health', 'post.add', 'post.remove', 'orders.pay', 'admin.users.deep.list', 'catalog.index', 'catalog.tree', 'catalog.opaque']) {
      expect(messages).toHaveProperty([`call.${path}`])
      expect(messages).toHaveProperty([`result.${path}`])
    }
    for (const type of ['subscribe', 'started', 'data', 'complete', 'unsubscribe']) {
      expect(messages).toHaveProperty([`${type}.ticks`])
      expect(messages).toHaveProperty([`${type}.chat.messages`])
    }
    // Every subscription may resync unless its schema set knows better (`ticks` is marked `resync: false`).
    expect(messages).toHaveProperty(['resync.chat.messages'])
    expect(messages).not.toHaveProperty(['resync.ticks'])
    for (const [key, message] of Object.entries(messages)) {
      const properties = message.payload.schema.properties as Record<string, unknown> | undefined
      if (properties?.id !== undefined) expect(message.correlationId, key).toEqual({ $ref: '#/components/correlationIds/id' })
      else expect(message.correlationId, key).toBeUndefined()
      expect(message.payload.schemaFormat).toBe('application/schema+json;version=draft-07')
    }
    expect(doc.components.correlationIds.id.location).toBe('$message.payload#/id')
  })

  it('a call pins its path and method and carries its input; a result and a data event carry the output', () => {
    const doc = buildAsyncApi(all) as any
    const call = doc.components.messages['call.post.add'].payload.schema
    expect(call.properties.path).toEqual({ type: 'string', const: 'post.add' })
    expect(call.properties.method).toEqual({ type: 'string', const: 'mutation' })
    expect(call.properties.input.properties.publishAt['x-wirecall-type']).toBe('Date')
    expect(call.required).toEqual(['type', 'id', 'method', 'path'])
    expect(doc.components.messages['result.post.add'].payload.schema.properties.data).toEqual({ $ref: '#/components/schemas/Post' })
    expect(doc.components.messages['data.ticks'].payload.schema.properties.data.required).toEqual(['n', 'at'])
    expect(doc.components.messages['call.orders.pay']['x-wirecall-idempotent']).toBe(true)
  })

  it('request/reply operations for every call and subscription', () => {
    const doc = buildAsyncApi(all) as any
    expect(doc.operations['call.greet']).toMatchObject({
      action: 'receive',
      messages: [{ $ref: '#/channels/wirecall/messages/call.greet' }],
      reply: { messages: [{ $ref: '#/channels/wirecall/messages/result.greet' }, { $ref: '#/channels/wirecall/messages/error' }] },
    })
    expect(doc.operations['subscribe.chat.messages'].reply.messages.map((m: { $ref: string }) => m.$ref.split('/').pop())).toEqual([
      'started.chat.messages',
      'data.chat.messages',
      'resync.chat.messages',
      'complete.chat.messages',
      'error',
    ])
    expect(doc.operations['unsubscribe.ticks'].action).toBe('receive')
    expect(doc.operations.restart.action).toBe('send')
  })

  it('error codes as an enum, close codes as an extension, the subprotocol in the bindings', () => {
    const doc = buildAsyncApi(queriesOnlyOr(), { url: 'wss://api.example.com:8443/ws' }) as any
    expect(doc.components.messages.error.payload.schema.properties.code.enum).toEqual(Object.keys(ERROR_CODES))
    expect(doc['x-wirecall-close-codes'].map((row: { code: number }) => row.code)).toEqual(CLOSE_CODES.map((row) => row.code))
    expect(doc['x-wirecall-close-codes']).toContainEqual({ code: 4401, name: 'Unauthorized', errorCode: 'UNAUTHORIZED', terminal: true })
    expect(doc.servers.wirecall).toMatchObject({ host: 'api.example.com:8443', pathname: '/ws', protocol: 'wss', 'x-wirecall-subprotocol': 'wirecall.v1' })
    const header = doc.channels.wirecall.bindings.ws.headers.properties['Sec-WebSocket-Protocol']
    for (const offered of ['wirecall.v1', 'graphql-ws, wirecall.v1', 'wirecall.v1,other']) expect(new RegExp(header.pattern).test(offered), offered).toBe(true)
    for (const offered of ['wirecall.v2', 'wirecallxv1', 'xwirecall.v1']) expect(new RegExp(header.pattern).test(offered), offered).toBe(false)
  })

  it('refuses a URL that is not ws:// or wss://, or that carries credentials', () => {
    for (const url of ['http://localhost/rpc', 'not a url', 'ws://user:secret@localhost/rpc']) {
      expect(() => buildAsyncApi(all, { url })).toThrow(CliError)
    }
  })

  it('is deterministic: the same set gives the same bytes; a name two procedures use for different types is kept for each', () => {
    const once = JSON.stringify(buildAsyncApi(all, { url: 'ws://127.0.0.1:1/x' }))
    expect(JSON.stringify(buildAsyncApi(structuredClone(all), { url: 'ws://127.0.0.1:1/x' }))).toBe(once)
    const doc = buildAsyncApi(all) as any
    // `User` is two different types in two procedures: both kept, the later renamed.
    expect(Object.keys(doc.components.schemas).filter((name) => name.startsWith('User'))).toEqual(['User', 'User_2', 'User_3'])
  })
})

function queriesOnlyOr(): SchemaSet {
  return schemaSets.queriesOnly!
}
