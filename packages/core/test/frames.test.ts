import { describe, expect, it } from 'vitest'
import {
  CLOSE_CODES,
  CloseCode,
  MessageType,
  PING_FRAME,
  PONG_FRAME,
  RpcError,
  ackFrame,
  callFrame,
  cancelFrame,
  chunkFrame,
  closeError,
  closeMeaning,
  completeFrame,
  creditFrame,
  dataFrame,
  decodeError,
  decodePayload,
  defaultSerializer,
  encodeFields,
  encodePayload,
  endFrame,
  errorFields,
  eventFields,
  initFrame,
  jsonSerializer,
  parseClientFrame,
  parseServerFrame,
  peerCallFrame,
  refusalCloseCode,
  reinitFrame,
  restartFrame,
  resultFrame,
  resyncFrame,
  stampFrame,
  startedFrame,
  subscribeFrame,
  unsubscribeFrame,
  type ClientMessage,
  type ServerMessage,
} from '@wirecall/core'

const serializer = defaultSerializer
const at = new Date('2026-12-07T10:00:00Z')

/** What the peer's parser makes of a frame: it must be one valid message. */
function fromClient(frame: string): ClientMessage {
  const parsed = parseClientFrame(frame)
  if (!parsed.ok) throw new Error(`${frame}: ${parsed.reason}`)
  expect(parsed.messages).toHaveLength(1)
  return parsed.messages[0]!
}

function fromServer(frame: string): ServerMessage {
  const parsed = parseServerFrame(frame)
  if (!parsed.ok) throw new Error(`${frame}: ${parsed.reason}`)
  expect(parsed.messages).toHaveLength(1)
  return parsed.messages[0]!
}

/** The value a message's payload fields carry, decoded. */
function payloadOf(message: { data?: unknown; input?: unknown; params?: unknown; meta?: unknown }, key: 'data' | 'input' | 'params'): unknown {
  return decodePayload(serializer, message[key], message.meta)
}

describe('frame builders round-trip through the parsers', () => {
  const built = new Set<string>()
  const client = (frame: string) => {
    const message = fromClient(frame)
    built.add(message.type)
    return message
  }
  const server = (frame: string) => {
    const message = fromServer(frame)
    built.add(message.type)
    return message
  }

  it('init, with and without params', () => {
    expect(client(initFrame(serializer, undefined))).toEqual({ type: 'init' })
    const message = client(initFrame(serializer, { token: 't', at }))
    expect(message.type).toBe('init')
    expect(payloadOf(message as { params?: unknown; meta?: unknown }, 'params')).toEqual({ token: 't', at })
  })

  it('call, with an input, without one, and with an idempotency key', () => {
    expect(client(callFrame(serializer, { id: 1, method: 'query', path: 'a.b' }, undefined))).toEqual({ type: 'call', id: 1, method: 'query', path: 'a.b' })
    expect(client(callFrame(serializer, { id: 2, method: 'query', path: 'a', idempotencyKey: undefined }, 5))).toEqual({
      type: 'call',
      id: 2,
      method: 'query',
      path: 'a',
      input: 5,
    })
    const message = client(callFrame(serializer, { id: 3, method: 'mutation', path: 'p', idempotencyKey: 'k' }, { at }))
    expect(message).toMatchObject({ type: 'call', id: 3, method: 'mutation', path: 'p', idempotencyKey: 'k' })
    expect(payloadOf(message as { input?: unknown; meta?: unknown }, 'input')).toEqual({ at })
  })

  it('cancel, unsubscribe', () => {
    expect(client(cancelFrame(7))).toEqual({ type: 'cancel', id: 7 })
    expect(client(unsubscribeFrame(8))).toEqual({ type: 'unsubscribe', id: 8 })
  })

  it('subscribe, with an input encoded once and a lastEventId', () => {
    expect(client(subscribeFrame({ id: 4, path: 's' }, undefined))).toEqual({ type: 'subscribe', id: 4, path: 's' })
    const input = encodePayload(serializer, { since: at })
    const message = client(subscribeFrame({ id: 5, path: 's', lastEventId: '41' }, input))
    expect(message).toMatchObject({ type: 'subscribe', id: 5, path: 's', lastEventId: '41' })
    expect(payloadOf(message as { input?: unknown; meta?: unknown }, 'input')).toEqual({ since: at })
  })

  it('reinit', () => {
    expect(client(reinitFrame(serializer, 9, undefined))).toEqual({ type: 'reinit', id: 9 })
    expect(payloadOf(client(reinitFrame(serializer, 9, { token: 'new' })) as { params?: unknown }, 'params')).toEqual({ token: 'new' })
  })

  it('ping and pong parse in both directions', () => {
    expect(client(PING_FRAME)).toEqual({ type: 'ping' })
    expect(client(PONG_FRAME)).toEqual({ type: 'pong' })
    expect(server(PING_FRAME)).toEqual({ type: 'ping' })
    expect(server(PONG_FRAME)).toEqual({ type: 'pong' })
  })

  it('ack, with and without maxPayload', () => {
    expect(server(ackFrame({}))).toEqual({ type: 'ack' })
    expect(server(ackFrame({ maxPayload: 1024 }))).toEqual({ type: 'ack', maxPayload: 1024 })
  })

  it('result, in one pass and stamped from fields encoded once', () => {
    expect(server(resultFrame(serializer, 1, undefined))).toEqual({ type: 'result', id: 1 })
    const message = server(resultFrame(serializer, 2, { at, n: 1n }))
    expect(payloadOf(message as { data?: unknown; meta?: unknown }, 'data')).toEqual({ at, n: 1n })
    const fields = encodeFields(serializer, {}, new Map([[1, at]]))
    for (const id of [3, 4]) {
      const stamped = server(stampFrame('result', id, fields))
      expect(stamped).toMatchObject({ type: 'result', id })
      expect(payloadOf(stamped as { data?: unknown; meta?: unknown }, 'data')).toEqual(new Map([[1, at]]))
    }
  })

  it('error, with data, and with data that cannot be serialized (the code and message still go)', () => {
    const withData = server(stampFrame('error', 5, errorFields(serializer, 'NOT_FOUND', 'no post', { id: 1n })))
    expect(withData).toMatchObject({ type: 'error', id: 5, code: 'NOT_FOUND', message: 'no post' })
    expect(decodeError(serializer, withData as Extract<ServerMessage, { type: 'error' }>)).toMatchObject({ code: 'NOT_FOUND', message: 'no post', data: { id: 1n } })
    const circular: Record<string, unknown> = {}
    circular.self = circular
    const dropped = server(stampFrame('error', 6, errorFields(jsonSerializer, 'INTERNAL', 'boom', circular)))
    expect(dropped).toEqual({ type: 'error', id: 6, code: 'INTERNAL', message: 'boom' })
  })

  it('started, with and without a position', () => {
    expect(server(startedFrame(1, undefined))).toEqual({ type: 'started', id: 1 })
    expect(server(startedFrame(1, '40'))).toEqual({ type: 'started', id: 1, eventId: '40' })
  })

  it('data, untracked in one pass and tracked stamped for every subscriber', () => {
    expect(server(dataFrame(serializer, 1, undefined))).toEqual({ type: 'data', id: 1 })
    expect(payloadOf(server(dataFrame(serializer, 1, { at })) as { data?: unknown; meta?: unknown }, 'data')).toEqual({ at })
    const fields = eventFields(serializer, '42', { at })
    for (const id of [2, 3]) {
      const message = server(stampFrame('data', id, fields))
      expect(message).toMatchObject({ type: 'data', id, eventId: '42' })
      expect(payloadOf(message as { data?: unknown; meta?: unknown }, 'data')).toEqual({ at })
    }
  })

  it('resync, complete, restart', () => {
    expect(server(resyncFrame(3))).toEqual({ type: 'resync', id: 3 })
    expect(server(completeFrame(3))).toEqual({ type: 'complete', id: 3 })
    expect(server(restartFrame(2500))).toEqual({ type: 'restart', delayMs: 2500 })
  })

  it('the extension: handlers in init and reinit, features in ack, stream calls and subscribes, chunk, end, credit', () => {
    expect(client(initFrame(serializer, undefined, ['ui.confirm', 'ui.pick']))).toEqual({ type: 'init', handlers: ['ui.confirm', 'ui.pick'] })
    // No procedures: nothing advertised, the message an old client sends.
    expect(client(initFrame(serializer, undefined, []))).toEqual({ type: 'init' })
    expect(client(reinitFrame(serializer, 9, undefined, undefined, []))).toEqual({ type: 'reinit', id: 9, handlers: [] })
    expect(server(ackFrame({ features: ['streams'] }))).toEqual({ type: 'ack', features: ['streams'] })
    // A stream call carries no input, whatever is passed.
    expect(client(callFrame(serializer, { id: 10, method: 'mutation', path: 'up', stream: true }, { ignored: 1 }))).toEqual({
      type: 'call',
      id: 10,
      method: 'mutation',
      path: 'up',
      stream: true,
    })
    expect(client(subscribeFrame({ id: 11, path: 'live', stream: true, lastEventId: '3' }, undefined))).toEqual({
      type: 'subscribe',
      id: 11,
      path: 'live',
      stream: true,
      lastEventId: '3',
    })
    const chunk = client(chunkFrame(serializer, 10, { at }))
    expect(chunk).toMatchObject({ type: 'chunk', id: 10 })
    expect(payloadOf(chunk as { data?: unknown; meta?: unknown }, 'data')).toEqual({ at })
    expect(client(endFrame(10))).toEqual({ type: 'end', id: 10 })
    expect(server(creditFrame(10, 16))).toEqual({ type: 'credit', id: 10, n: 16 })
  })

  it('the extension: the server calls a client procedure, the client answers it, the server cancels it', () => {
    const call = server(peerCallFrame(serializer, { id: 1, path: 'ui.confirm', timeoutMs: 10_000 }, { text: 'Delete?', at }))
    expect(call).toMatchObject({ type: 'call', id: 1, path: 'ui.confirm', timeoutMs: 10_000 })
    expect(payloadOf(call as { input?: unknown; meta?: unknown }, 'input')).toEqual({ text: 'Delete?', at })
    expect(server(cancelFrame(1))).toEqual({ type: 'cancel', id: 1 })
    expect(client(resultFrame(serializer, 1, true))).toEqual({ type: 'result', id: 1, data: true })
    expect(client(stampFrame('error', 1, errorFields(serializer, 'NOT_IMPLEMENTED', 'no', undefined)))).toEqual({
      type: 'error',
      id: 1,
      code: 'NOT_IMPLEMENTED',
      message: 'no',
    })
  })

  it('the extension refuses what it does not define', () => {
    const refused = (parse: (text: string) => { ok: boolean }, message: unknown) => expect(parse(JSON.stringify(message)).ok, JSON.stringify(message)).toBe(false)
    refused(parseClientFrame, { type: 'init', handlers: 'ui.confirm' })
    refused(parseClientFrame, { type: 'init', handlers: [''] })
    refused(parseClientFrame, { type: 'init', handlers: Array.from({ length: 1001 }, (_, i) => `p${i}`) })
    refused(parseClientFrame, { type: 'call', id: 1, method: 'mutation', path: 'up', stream: false })
    refused(parseClientFrame, { type: 'chunk' })
    refused(parseServerFrame, { type: 'credit', id: 1, n: 0 })
    refused(parseServerFrame, { type: 'credit', id: 1, n: 2 ** 31 })
    refused(parseServerFrame, { type: 'call', id: 1, path: 'ui.confirm' })
    refused(parseServerFrame, { type: 'call', id: 1, path: 'ui.confirm', timeoutMs: 1.5 })
    refused(parseServerFrame, { type: 'chunk', id: 1 })
    refused(parseClientFrame, { type: 'credit', id: 1, n: 1 })
    refused(parseServerFrame, { type: 'ack', features: [''] })
  })

  it('covers every message type', () => {
    expect([...built].sort()).toEqual(Object.values(MessageType).sort())
  })
})

describe('payloads', () => {
  it('leave undefined out, and decode nothing as undefined', () => {
    expect(encodePayload(serializer, undefined)).toBeUndefined()
    expect(decodePayload(serializer, undefined, undefined)).toBeUndefined()
    const encoded = encodePayload(serializer, { at, set: new Set([1]) })!
    expect(decodePayload(serializer, encoded.json, encoded.meta)).toEqual({ at, set: new Set([1]) })
  })

  it('an error code outside the table decodes as INTERNAL, and undecodable data is left out', () => {
    const error = decodeError(serializer, { type: 'error', id: 1, code: 'FUTURE_CODE', message: 'm', data: 1, meta: { values: 'not a tree' } })
    expect(error).toBeInstanceOf(RpcError)
    expect(error).toMatchObject({ code: 'INTERNAL', message: 'm', data: undefined })
  })
})

describe('the close-code table', () => {
  it('has one row per close code, except 1006, which is never sent', () => {
    const codes = CLOSE_CODES.map((row) => row.code)
    expect(new Set(codes).size).toBe(codes.length)
    expect(codes.sort()).toEqual(
      Object.values(CloseCode)
        .filter((code) => code !== CloseCode.Abnormal)
        .sort(),
    )
  })

  it('closeMeaning reads the table, then the 4400 band (terminal) and everything else (retryable)', () => {
    for (const row of CLOSE_CODES) expect(closeMeaning(row.code)).toEqual({ code: row.errorCode, terminal: row.terminal })
    expect(closeMeaning(4499)).toEqual({ code: 'BAD_REQUEST', terminal: true })
    expect(closeMeaning(CloseCode.Abnormal)).toEqual({ code: 'CONNECTION_LOST', terminal: false })
    expect(closeMeaning(3000)).toEqual({ code: 'CONNECTION_LOST', terminal: false })
    expect(closeError(4401, 'no')).toMatchObject({ code: 'UNAUTHORIZED', message: 'connection closed (4401): no', data: { closeCode: 4401, closeReason: 'no' } })
  })

  it('a refused set-up closes with a code the client reads back as the refusal', () => {
    for (const code of ['UNAUTHORIZED', 'FORBIDDEN', 'OVERLOADED', 'TOO_MANY_REQUESTS', 'TIMEOUT', 'INTERNAL', 'NOT_FOUND'] as const) {
      const meaning = closeMeaning(refusalCloseCode(code))
      if (code === 'FORBIDDEN') expect(meaning).toEqual({ code: 'FORBIDDEN', terminal: true })
      else if (code === 'INTERNAL') expect(meaning.terminal).toBe(false)
      else if (code === 'OVERLOADED' || code === 'TOO_MANY_REQUESTS' || code === 'TIMEOUT') expect(meaning).toEqual({ code: 'OVERLOADED', terminal: false })
      else expect(meaning).toEqual({ code: 'UNAUTHORIZED', terminal: true })
    }
  })
})
