import { PROTOCOL } from '@wirecall/core'
import type { JsonSchema, SchemaSet } from '../schema/schema-types'
import { ComponentSchemas, componentKey } from './component-schemas'
import { channelBinding, closeCodes, errorCodes, serverObject } from './endpoint'
import { addEnvelopes, connectionMessages, procedureMessages, procedurePayloads, type MessageObject } from './messages'
import { CHANNEL, connectionOperations, procedureOperations, type OperationObject } from './operations'

/** Options of {@link buildAsyncApi}. */
export interface BuildAsyncApiOptions {
  /** The server's endpoint, `ws://host:port/path` or `wss://…`. Without it the server is a placeholder with `host` and `path` variables. */
  readonly url?: string | undefined
  /** The document's `info.title`. @default 'wirecall API' */
  readonly title?: string | undefined
  /** The document's `info.version`: the API's version, not the protocol's. @default '0.0.0' */
  readonly version?: string | undefined
}

/** The one server of the document. */
const SERVER = 'wirecall'

/**
 * The AsyncAPI 3.0 document of a wirecall connection: one server (`ws` or
 * `wss`), one channel holding every `wirecall.v1` message (the connection's
 * own, and per procedure its call and result, or its subscribe, started,
 * data, resync, complete and unsubscribe), request/reply operations seen
 * from the server, the error codes as an enum on `error.code`, the close
 * codes as `x-wirecall-close-codes`. Envelopes come from the runtime
 * parser's tables; payload schemas are `set`'s, converted to draft-07, their
 * named types in `components.schemas`. The same `set` and options always
 * give the same document. Throws a `USAGE` `CliError` for a `url` that is
 * not `ws://` or `wss://`.
 */
export function buildAsyncApi(set: SchemaSet, options: BuildAsyncApiOptions = {}): JsonSchema {
  const components = new ComponentSchemas()
  addEnvelopes(components)
  const messages: Record<string, MessageObject> = connectionMessages()
  const operations: Record<string, OperationObject> = connectionOperations()

  const bases = new Set<string>()
  for (const procedure of set.procedures) {
    // Message keys allow [A-Za-z0-9._-] only; two paths that map to one key are told apart by a suffix.
    let base = componentKey(procedure.path)
    for (let n = 2; bases.has(base); n++) base = `${componentKey(procedure.path)}-${n}`
    bases.add(base)
    Object.assign(messages, procedureMessages(procedure, base, procedurePayloads(procedure, base, components)))
    Object.assign(operations, procedureOperations(procedure, base))
  }

  // A message's name is its key: unique, so that a generator names one model per message (the wire `type` is the payload's `type` const).
  const named = Object.fromEntries(Object.entries(messages).map(([key, message]) => [key, { name: key, ...message }]))

  return {
    asyncapi: '3.0.0',
    info: {
      title: options.title ?? 'wirecall API',
      version: options.version ?? '0.0.0',
      description: [
        `The ${PROTOCOL} WebSocket protocol of this API, as the server speaks it: receive operations are what a client sends, replies and send operations what the server sends.`,
        'One connection carries every call and subscription, told apart by the client-chosen id (the correlation id of every message that has one).',
        'A frame is one message or a batch (an array) of them. A frame that breaks the envelope closes the connection with 4400; a valid message with bad content fails only its call.',
        'Payloads travel as plain JSON (`input`, `data`, `params`) plus optional serializer metadata (`meta`); the schemas describe the JSON, and `x-wirecall-type` marks values that `meta` rebuilds (Date, bigint, Map, Set, ...).',
      ].join('\n\n'),
    },
    defaultContentType: 'application/json',
    servers: { [SERVER]: serverObject(options.url) },
    channels: {
      [CHANNEL]: {
        address: null,
        title: `${PROTOCOL} connection`,
        description: "The endpoint is the server's URL (host and pathname); every message of the protocol travels on its one WebSocket.",
        servers: [{ $ref: `#/servers/${SERVER}` }],
        messages: Object.fromEntries(Object.keys(named).map((key) => [key, { $ref: `#/components/messages/${key}` }])),
        bindings: channelBinding(),
      },
    },
    operations,
    components: {
      schemas: components.toObject(),
      messages: named,
      correlationIds: {
        id: { description: 'The call or subscription id: chosen by the client, echoed in every message about it.', location: '$message.payload#/id' },
      },
    },
    'x-wirecall-protocol': PROTOCOL,
    'x-wirecall-close-codes': closeCodes(),
    'x-wirecall-error-codes': errorCodes(),
  }
}
