import {
  CLIENT_SHAPES,
  MAX_EVENT_ID_LENGTH,
  MAX_ID,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_PATH_LENGTH,
  MAX_RESTART_DELAY_MS,
  SERVER_SHAPES,
  MAX_GRANT,
  MAX_HANDLERS,
  delayMsRule,
  eventIdRule,
  featuresRule,
  grantRule,
  handlersRule,
  idRule,
  idempotencyKeyRule,
  idempotentRule,
  limitsRule,
  maxPayloadRule,
  methodRule,
  pathRule,
  payloadRule,
  reasonRule,
  streamRule,
  textRule,
  type EnvelopeRule,
  type EnvelopeTable,
} from '@wirecall/core'
import type { JsonSchema } from '../schema/schema-types'

/*
 * The envelope of every wirecall.v1 message as JSON Schema (draft-07
 * keywords only, which 2020-12 reads the same way), derived from the runtime
 * parser's own tables: field names, which are required and in what order
 * come from CLIENT_SHAPES / SERVER_SHAPES, and each field's schema from the
 * rule object the parser checks it with. A rule with no entry below is a
 * parser change this file has not followed: building throws, and the test
 * that walks both tables fails first.
 *
 * Lengths are UTF-16 code units, as the parser counts them (JSON Schema
 * counts code points: the same for every character outside the astral
 * planes).
 */

/** Which side sends a message: the client's messages are what a server receives. */
export type Direction = 'client' | 'server'

const positiveInteger = (description: string): JsonSchema => ({ type: 'integer', minimum: 1, description })

/** Each rule of the parser, by identity, to the schema of a value it accepts. */
const RULE_SCHEMAS: ReadonlyMap<EnvelopeRule, JsonSchema> = new Map<EnvelopeRule, JsonSchema>([
  [idRule, { type: 'integer', minimum: 0, maximum: MAX_ID, description: 'Chosen by the side that makes the call or subscription (the client and the server number theirs apart); unique among those it has in flight on the connection. result, error, cancel, credit, chunk and end carry the id of the call they belong to.' }],
  [payloadRule, {}],
  [pathRule, { type: 'string', minLength: 1, maxLength: MAX_PATH_LENGTH, description: 'Dotted procedure path.' }],
  [eventIdRule, { type: 'string', maxLength: MAX_EVENT_ID_LENGTH }],
  [methodRule, { type: 'string', enum: ['query', 'mutation'] }],
  [
    idempotencyKeyRule,
    {
      type: 'string',
      minLength: 1,
      maxLength: MAX_IDEMPOTENCY_KEY_LENGTH,
      description: 'Mutations only: marks the mutation as safe to send again, and names it.',
    },
  ],
  [textRule, { type: 'string' }],
  [
    reasonRule,
    {
      type: 'string',
      maxLength: 64,
      description: 'Why the subscription must resync, when the server knows: trimmed, unknown-id, lagging, stream-reset, position-lost or too-far-behind. A newer server may send a reason not listed here: treat it as none.',
    },
  ],
  [maxPayloadRule, positiveInteger('The largest frame the server accepts, in bytes.')],
  [
    limitsRule,
    {
      type: 'object',
      description: 'The per-connection limits the server enforces; a field is left out when that limit is off. Unknown fields are ignored.',
      properties: {
        maxInFlightCalls: positiveInteger('Most calls (and reinits) unanswered at once.'),
        maxSubscriptions: positiveInteger('Most live subscriptions.'),
        messagesPerSecond: { type: 'number', exclusiveMinimum: 0, description: 'Refill rate of the message bucket (any message type).' },
        burst: positiveInteger('Size of the message bucket.'),
      },
    },
  ],
  [
    idempotentRule,
    {
      type: 'array',
      items: { type: 'string', minLength: 1, maxLength: MAX_PATH_LENGTH },
      description: 'The mutations the server declared idempotent: send each call to one of them with an idempotencyKey.',
    },
  ],
  [
    handlersRule,
    {
      type: 'array',
      maxItems: MAX_HANDLERS,
      items: { type: 'string', minLength: 1, maxLength: MAX_PATH_LENGTH },
      description: 'The client procedures this client implements: the server may call them with a server `call`.',
    },
  ],
  [
    featuresRule,
    {
      type: 'array',
      items: { type: 'string', minLength: 1, maxLength: 64 },
      description: 'Extensions of wirecall.v1 the server accepts ("streams": client streams). Unknown entries are ignored.',
    },
  ],
  [streamRule, { const: true, description: 'The input is a client stream, sent as chunk messages under this id within the credit granted; no input field.' }],
  [grantRule, { type: 'integer', minimum: 1, maximum: MAX_GRANT }],
  [
    delayMsRule,
    {
      type: 'integer',
      minimum: 0,
      maximum: MAX_RESTART_DELAY_MS,
      description: 'How long after the 1012 close to wait before reconnecting, in milliseconds.',
    },
  ],
])

/** What a field means, where its rule alone does not say (payload fields share one rule). */
const FIELD_DESCRIPTIONS: Readonly<Record<string, string>> = {
  params: 'The `json` half of the encoded connection parameters.',
  input: 'The `json` half of the encoded input; left out when the input is undefined.',
  data: 'The `json` half of the encoded value; left out when it is undefined.',
  meta: 'Serializer metadata for the payload beside it (superjson format v1 by default: docs/encoding.md).',
  trace: 'W3C trace context `{ traceparent, tracestate?, baggage? }`; a value that is not valid is ignored, never an error.',
  lastEventId: 'The eventId of the last event received, when resuming.',
  eventId: 'The stream position: the events that follow come after this id.',
  code: 'The error code: a server sends one of the table (docs/errors.md); a receiver reads any other as INTERNAL.',
  message: 'A human-readable message.',
  n: 'How many more chunks the server takes: the first grant is the window, later ones return what was consumed.',
  timeoutMs: 'How long the server waits for the answer, in milliseconds.',
}

/** The parser's table for messages `direction` sends. */
export function envelopeTable(direction: Direction): EnvelopeTable {
  return direction === 'client' ? CLIENT_SHAPES : SERVER_SHAPES
}

/** Every message type `direction` sends, in the parser's order. */
export function messageTypes(direction: Direction): string[] {
  return [...envelopeTable(direction).keys()]
}

/** `type.field` of every field whose rule has no schema here; empty when this file follows the parser. */
export function unmappedEnvelopeFields(): string[] {
  const missing: string[] = []
  for (const direction of ['client', 'server'] as const) {
    for (const [type, fields] of envelopeTable(direction)) {
      for (const [field, rule] of fields) if (!RULE_SCHEMAS.has(rule)) missing.push(`${direction} ${type}.${field}`)
    }
  }
  return missing
}

/** The schema of one field of a message, from its rule. */
function fieldSchema(direction: Direction, type: string, field: string, rule: EnvelopeRule): JsonSchema {
  const schema = RULE_SCHEMAS.get(rule)
  if (schema === undefined) throw new TypeError(`the parser's rule for ${direction} ${type}.${field} has no JSON Schema in envelope-schemas.ts`)
  const description = FIELD_DESCRIPTIONS[field]
  const copy = structuredClone(schema)
  return description !== undefined && copy.description === undefined ? { ...copy, description } : copy
}

/** One message's fields, as the parser reads them: `[field, schema, required]` in the parser's order. */
export function envelopeFields(direction: Direction, type: string): [field: string, schema: JsonSchema, required: boolean][] {
  const fields = envelopeTable(direction).get(type)
  if (fields === undefined) throw new TypeError(`no ${direction} message of type ${type}`)
  return fields.map(([field, rule]) => [field, fieldSchema(direction, type, field, rule), rule.optional !== true])
}

/**
 * The envelope schema of one message type exactly as the parser checks it:
 * `type` and the required fields required, each field's value as its rule
 * accepts it, unknown fields allowed (receivers ignore them). A frame's
 * message passes the parser if and only if it validates.
 */
export function envelopeSchema(direction: Direction, type: string): JsonSchema {
  const properties: Record<string, JsonSchema> = { type: { type: 'string', const: type } }
  const required = ['type']
  for (const [field, schema, isRequired] of envelopeFields(direction, type)) {
    properties[field] = schema
    if (isRequired) required.push(field)
  }
  return { type: 'object', properties, required }
}
