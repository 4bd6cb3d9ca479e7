import { ERROR_CODES, MAX_BATCH_MESSAGES } from '@wirecall/core'
import type { ProcedureSchemas } from '../schema/schema-types'
import type { JsonSchema } from '../schema/schema-types'
import type { ComponentSchemas } from './component-schemas'
import { envelopeSchema, messageTypes, type Direction } from './envelope-schemas'

/*
 * The messages of the document: the ones every connection has (init, ack,
 * error, cancel, reinit, restart, ping, pong, the two batch forms), and per
 * procedure the ones that carry its path or its payloads. Each payload is a
 * draft-07 schema built on the parser's envelope of its type, with the
 * procedure's own schemas in place of the generic payload fields.
 */

/** How each payload is marked: AsyncAPI 3 lists draft-07, not 2020-12. */
export const DRAFT_07 = 'application/schema+json;version=draft-07'

/** `components.schemas` key of the envelope that the parser checks for `type` sent by `direction`. */
export const envelopeKey = (direction: Direction, type: string): string => `wirecall.envelope.${direction}.${type}`

/** An AsyncAPI message object. */
export type MessageObject = Record<string, unknown>

/** The serializer's `meta` as the reference implementations write it (superjson's format, version 1). */
const META: JsonSchema = {
  type: 'object',
  description: 'Serializer metadata: where to rebuild what JSON cannot carry (Date, Map, Set, bigint, undefined, shared references). Superjson format version 1, specified in docs/encoding.md. A receiver may ignore it and read the payload field as plain JSON.',
  properties: {
    values: { anyOf: [{ type: 'object' }, { type: 'array' }], description: 'The annotation tree.' },
    referentialEqualities: { anyOf: [{ type: 'object' }, { type: 'array' }], description: 'Which paths hold the same value.' },
    v: { type: 'number', description: 'The format version: 1.' },
  },
}

const ERROR_CODE: JsonSchema = {
  type: 'string',
  enum: Object.keys(ERROR_CODES),
  description: 'One of the documented error codes (docs/errors.md); a client that receives another treats it as INTERNAL.',
}

/**
 * The envelope of a message type in the document's messages: the parser's,
 * with the error-code table on `error.code` (a server sends no other code;
 * a receiver reads an unknown one as INTERNAL, so the envelope that
 * receivers check, in `components.schemas`, takes any string there).
 */
function documentEnvelope(direction: Direction, type: string): JsonSchema {
  return withFields(envelopeSchema(direction, type), direction === 'server' && type === 'error' ? { code: ERROR_CODE } : {})
}

/** A client `error` message, with the error-code table on `code` as the server's has. */
function withCode(message: MessageObject): MessageObject {
  const payload = message.payload as { schemaFormat: string; schema: JsonSchema }
  return { ...message, payload: { ...payload, schema: withFields(payload.schema, { code: ERROR_CODE }) } }
}

/** `schema` (an envelope) with some of its fields' schemas replaced. */
function withFields(schema: JsonSchema, fields: Readonly<Record<string, JsonSchema>>): JsonSchema {
  const properties = { ...(schema.properties as Record<string, JsonSchema>) }
  for (const [field, replacement] of Object.entries(fields)) {
    if (!(field in properties)) throw new TypeError(`the envelope has no field ${field}`)
    properties[field] = replacement
  }
  return { ...schema, properties }
}

/** Puts every envelope in `components.schemas`, exactly as the runtime parser checks it (what a receiver accepts): the items of a batch. */
export function addEnvelopes(components: ComponentSchemas): void {
  for (const direction of ['client', 'server'] as const) {
    for (const type of messageTypes(direction)) components.set(envelopeKey(direction, type), envelopeSchema(direction, type))
  }
}

interface MessageOptions {
  readonly direction: Direction
  readonly type: string
  readonly title: string
  readonly summary: string
  readonly payload: JsonSchema
  readonly path?: string | undefined
  /** Sent by either side (ping, pong). */
  readonly bothWays?: boolean | undefined
  readonly extensions?: Readonly<Record<`x-wirecall-${string}`, unknown>> | undefined
}

function message(options: MessageOptions): MessageObject {
  const hasId = (options.payload.properties as Record<string, unknown> | undefined)?.id !== undefined
  return {
    title: options.title,
    summary: options.summary,
    contentType: 'application/json',
    ...(hasId ? { correlationId: { $ref: '#/components/correlationIds/id' } } : {}),
    payload: { schemaFormat: DRAFT_07, schema: options.payload },
    'x-wirecall-direction': options.bothWays === true ? 'both' : options.direction === 'client' ? 'client-to-server' : 'server-to-client',
    ...(options.path !== undefined ? { 'x-wirecall-path': options.path } : {}),
    ...options.extensions,
  }
}

const generic = (direction: Direction, type: string, title: string, summary: string, bothWays?: true): MessageObject =>
  message({ direction, type, title, summary, payload: documentEnvelope(direction, type), bothWays })

const batch = (direction: Direction): MessageObject =>
  message({
    direction,
    type: 'batch',
    title: `Batch (${direction} to ${direction === 'client' ? 'server' : 'client'})`,
    summary: `One frame holding several ${direction} messages, handled in array order as if each had come in a frame of its own; all of them are valid or the frame is refused (close 4400).`,
    payload: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_BATCH_MESSAGES,
      items: { anyOf: messageTypes(direction).map((type) => ({ $ref: `#/components/schemas/${envelopeKey(direction, type)}` })) },
    },
  })

/** The messages every connection has, by component key. */
export function connectionMessages(): Record<string, MessageObject> {
  return {
    init: generic('client', 'init', 'Init', 'The first message on a connection: the connection parameters (an auth token). The server answers ack, or closes (4401, 4403, 1011, 1013).'),
    ack: generic('server', 'ack', 'Ack', 'The server accepted the connection; calls and subscriptions may now be sent. Announces the limits it enforces.'),
    error: generic('server', 'error', 'Error', 'The failure of a call, subscription or reinit; it ends that id.'),
    cancel: generic('client', 'cancel', 'Cancel', 'Stops a call in flight; the server sends nothing more for its id.'),
    reinit: generic('client', 'reinit', 'Reinit', 'New connection parameters on the open connection (a refreshed token). Answered by result (no data) or error.'),
    reinitResult: message({
      direction: 'server',
      type: 'result',
      title: 'Result of a reinit',
      summary: 'The new connection parameters were accepted.',
      payload: withFields(documentEnvelope('server', 'result'), { data: { not: {}, description: 'Never present on the answer to a reinit.' } }),
    }),
    restart: generic('server', 'restart', 'Restart', 'The server is restarting: it closes with 1012 once the calls in flight are done; reconnect delayMs after that close.'),
    ping: generic('client', 'ping', 'Ping', 'Either side may send it at any time; the other answers pong.', true),
    pong: generic('client', 'pong', 'Pong', 'The answer to a ping; never answered itself.', true),
    credit: generic('server', 'credit', 'Credit', 'The server takes n more chunks of the client stream of this call or subscription: the first grant is the window, later ones return what its resolver consumed.'),
    chunk: generic('client', 'chunk', 'Chunk', 'One item of a client stream (a call or subscribe sent with stream: true), within the credit granted; beyond it the server closes with 4400.'),
    end: generic('client', 'end', 'End', 'The client stream of this id has no more items.'),
    peerCall: generic('server', 'call', 'Call to a client procedure', 'The server calls a client procedure the client advertised in init.handlers; the id is the server\'s own. Answered by result or error under the same id.'),
    peerCancel: generic('server', 'cancel', 'Cancel a call to the client', 'The server gave up on its call (timeout, cancelled): the client stops the handler and sends nothing for the id.'),
    peerResult: generic('client', 'result', 'Result of a client procedure', 'The client\'s answer to the server\'s call with this id.'),
    peerError: withCode(generic('client', 'error', 'Error of a client procedure', 'The client procedure failed, or the client does not implement it (NOT_IMPLEMENTED).')),
    clientBatch: batch('client'),
    serverBatch: batch('server'),
  }
}

/** A procedure's payload schemas, draft-07, with their named types moved to `components.schemas`. */
export interface ProcedurePayloads {
  readonly input: JsonSchema
  readonly output: JsonSchema
}

/** Converts a procedure's schemas into the document's (`base`: the component-key form of its path). */
export function procedurePayloads(procedure: ProcedureSchemas, base: string, components: ComponentSchemas): ProcedurePayloads {
  return {
    input: components.add(procedure.input.schema, `${base}.input`),
    output: components.add(procedure.output.schema, `${base}.output`),
  }
}

/** The messages of one procedure, by component key (`<type>.<base>`). */
export function procedureMessages(procedure: ProcedureSchemas, base: string, payloads: ProcedurePayloads): Record<string, MessageObject> {
  const { path, kind } = procedure
  const pathConst: JsonSchema = { type: 'string', const: path }
  // A mutation declared idempotent: send each call with an idempotencyKey (ack lists it in `idempotent` too).
  const extensions = procedure.idempotent ? { 'x-wirecall-idempotent': true } : undefined
  const at = (direction: Direction, type: string, title: string, summary: string, fields: Record<string, JsonSchema> = {}): MessageObject =>
    message({ direction, type, title, summary, path, payload: withFields(documentEnvelope(direction, type), fields), extensions })

  if (kind === 'subscription') {
    const messages: Record<string, MessageObject> = {
      [`subscribe.${base}`]: at('client', 'subscribe', `Subscribe to ${path}`, `Starts the subscription ${path}, resuming after lastEventId when given.`, {
        path: pathConst,
        input: payloads.input,
        meta: META,
      }),
      [`started.${base}`]: at('server', 'started', `${path} started`, 'The subscription is running; sent before any data.'),
      [`data.${base}`]: at('server', 'data', `${path} event`, `One event of ${path}.`, { data: payloads.output, meta: META }),
    }
    // Only a set that knows the events cannot resync (`resync: false`) leaves it out: a message that never comes costs a client nothing.
    if (procedure.resync !== false) {
      messages[`resync.${base}`] = at('server', 'resync', `${path} resync`, 'The server cannot replay what the client missed: reload state; the subscription continues.')
    }
    messages[`complete.${base}`] = at('server', 'complete', `${path} complete`, 'The stream ended; nothing more is sent for this id.')
    messages[`unsubscribe.${base}`] = at('client', 'unsubscribe', `Unsubscribe from ${path}`, 'Stops the subscription; the server sends nothing more for its id.')
    return messages
  }
  const verb = kind === 'query' ? 'Query' : 'Mutation'
  return {
    [`call.${base}`]: at('client', 'call', `${verb} ${path}`, `Calls the ${kind} ${path}.`, {
      method: { type: 'string', const: kind },
      path: pathConst,
      input: payloads.input,
      meta: META,
    }),
    [`result.${base}`]: at('server', 'result', `Result of ${path}`, `The value ${path} returned.`, { data: payloads.output, meta: META }),
  }
}
