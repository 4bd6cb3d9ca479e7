import { describe, expect, it } from 'vitest'
import { parseClientFrame, parseServerFrame } from '@wirecall/core'
import { isValidId } from '../src/protocol'

describe('parseClientFrame', () => {
  const valid: [string, unknown][] = [
    ['init without params', { type: 'init' }],
    ['init with params and meta', { type: 'init', params: { token: 't' }, meta: { values: {} } }],
    ['query call', { type: 'call', id: 0, method: 'query', path: 'a.b' }],
    ['mutation call with input', { type: 'call', id: 9007199254740991, method: 'mutation', path: 'x', input: null }],
    ['cancel', { type: 'cancel', id: 3 }],
    ['subscribe with lastEventId', { type: 'subscribe', id: 1, path: 'feed', lastEventId: 'e.1' }],
    ['unsubscribe', { type: 'unsubscribe', id: 1 }],
    ['ping', { type: 'ping' }],
    ['pong', { type: 'pong' }],
    ['unknown extra fields are ignored', { type: 'ping', future: true }],
  ]
  it.each(valid)('accepts %s', (_name, message) => {
    const result = parseClientFrame(JSON.stringify(message))
    expect(result).toEqual({ ok: true, messages: [message] })
  })

  const invalid: [string, string][] = [
    ['not JSON', '{nope'],
    ['null', 'null'],
    ['a number', '42'],
    ['a string', '"call"'],
    ['empty array', '[]'],
    ['empty object', '{}'],
    ['unknown type', '{"type":"launch"}'],
    ['type through the prototype', '{"type":"__proto__"}'],
    ['type constructor', '{"type":"constructor"}'],
    ['type toString', '{"type":"toString"}'],
    ['type as object', '{"type":{"x":1}}'],
    ['server message from a client', '{"type":"started","id":1}'],
    ['credit from a client', '{"type":"credit","id":1,"n":1}'],
    ['call without id', '{"type":"call","method":"query","path":"a"}'],
    ['negative id', '{"type":"call","id":-1,"method":"query","path":"a"}'],
    ['fractional id', '{"type":"call","id":1.5,"method":"query","path":"a"}'],
    ['id past 2^53', '{"type":"call","id":9007199254740992,"method":"query","path":"a"}'],
    ['id 1e309 (Infinity)', '{"type":"call","id":1e309,"method":"query","path":"a"}'],
    ['string id', '{"type":"call","id":"1","method":"query","path":"a"}'],
    ['"__proto__" id', '{"type":"cancel","id":"__proto__"}'],
    ['object id', '{"type":"cancel","id":{}}'],
    ['boolean id', '{"type":"cancel","id":true}'],
    ['bad method', '{"type":"call","id":1,"method":"subscription","path":"a"}'],
    ['method as array', '{"type":"call","id":1,"method":["query"],"path":"a"}'],
    ['empty path', '{"type":"call","id":1,"method":"query","path":""}'],
    ['path as object', '{"type":"call","id":1,"method":"query","path":{}}'],
    ['too long path', JSON.stringify({ type: 'call', id: 1, method: 'query', path: 'a'.repeat(1025) })],
    ['lastEventId as number', '{"type":"subscribe","id":1,"path":"a","lastEventId":5}'],
    ['array holding a non-object', '[{"type":"ping"},1]'],
    ['array holding an invalid message', '[{"type":"ping"},{"type":"cancel"}]'],
  ]
  it.each(invalid)('rejects %s', (_name, text) => {
    const result = parseClientFrame(text)
    expect(result.ok).toBe(false)
  })

  it('accepts a batch and keeps its order', () => {
    const batch = [
      { type: 'call', id: 1, method: 'query', path: 'a' },
      { type: 'cancel', id: 1 },
    ]
    expect(parseClientFrame(JSON.stringify(batch))).toEqual({ ok: true, messages: batch })
  })

  it('bounds the batch size', () => {
    const batch = JSON.stringify(Array.from({ length: 11 }, () => ({ type: 'ping' })))
    expect(parseClientFrame(batch, { maxBatchSize: 10 }).ok).toBe(false)
    expect(parseClientFrame(batch, { maxBatchSize: 11 }).ok).toBe(true)
  })

  it('never touches Object.prototype', () => {
    parseClientFrame('{"type":"call","id":1,"method":"query","path":"a","__proto__":{"polluted":1}}')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

describe('parseServerFrame', () => {
  it.each([
    [{ type: 'ack' }],
    [{ type: 'ack', maxPayload: 1, limits: {}, idempotent: [] }],
    [{ type: 'ack', limits: { maxInFlightCalls: 1_000, maxSubscriptions: 1, messagesPerSecond: 0.5, burst: 3 } }],
    [{ type: 'ack', limits: { maxInFlightCalls: 2, futureLimit: 'whatever' } }],
    [{ type: 'ack', idempotent: ['orders.pay', 'a'] }],
    [{ type: 'result', id: 1, data: { a: 1 } }],
    [{ type: 'error', id: 1, code: 'NOT_FOUND', message: 'no' }],
    [{ type: 'started', id: 1 }],
    [{ type: 'data', id: 1, data: 1, eventId: 'x' }],
    [{ type: 'resync', id: 1 }],
    [{ type: 'complete', id: 1 }],
  ])('accepts %j', (message) => {
    expect(parseServerFrame(JSON.stringify(message)).ok).toBe(true)
  })

  it.each([
    '{"type":"call","id":1,"method":"query","path":"a"}',
    '{"type":"error","id":1,"code":1,"message":"x"}',
    '{"type":"ack","limits":[]}',
    '{"type":"ack","limits":null}',
    '{"type":"ack","limits":{"maxInFlightCalls":0}}',
    '{"type":"ack","limits":{"maxSubscriptions":1.5}}',
    '{"type":"ack","limits":{"burst":"10"}}',
    '{"type":"ack","limits":{"messagesPerSecond":-1}}',
    '{"type":"ack","limits":{"messagesPerSecond":1e999}}',
    '{"type":"ack","idempotent":"orders.pay"}',
    '{"type":"ack","idempotent":[""]}',
    '{"type":"ack","idempotent":[1]}',
  ])(
    'rejects %s',
    (text) => {
      expect(parseServerFrame(text).ok).toBe(false)
    },
  )
})

describe('isValidId', () => {
  it.each([0, 1, 2 ** 53 - 1])('accepts %d', (id) => expect(isValidId(id)).toBe(true))
  it.each([-1, 1.5, 2 ** 53, Infinity, NaN, '1', null, undefined, {}, true])('rejects %j', (id) => expect(isValidId(id)).toBe(false))
})

describe('a polluted Object.prototype', () => {
  it('does not change what a frame must hold, and the parser still never throws', () => {
    const proto = Object.prototype as Record<string, unknown>
    proto.zzz = 1 // what a dependency elsewhere in the process might have done
    try {
      expect(parseClientFrame('{"type":"ping"}').ok).toBe(true)
      expect(parseClientFrame('{"type":"ping","zzz":{}}').ok).toBe(true)
      expect(parseServerFrame('{"type":"result","id":1,"zzz":2}').ok).toBe(true)
    } finally {
      delete proto.zzz
    }
  })
})
