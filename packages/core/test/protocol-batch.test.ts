import { describe, expect, it } from 'vitest'
import { parseServerFrame } from '@wirecall/core'

/**
 * The `maxPayload` of `ack`: the largest frame the server accepts, which the
 * client's batches must stay under. A client that trusted a bad value could
 * build batches of no size or of a fraction of a character, so anything but
 * a positive integer makes the frame invalid (the client closes with 4400).
 */
describe('parseServerFrame: ack.maxPayload', () => {
  const valid: [string, unknown][] = [
    ['absent', { type: 'ack' }],
    ['1', { type: 'ack', maxPayload: 1 }],
    ['8192', { type: 'ack', maxPayload: 8_192 }],
    ['1 MiB', { type: 'ack', maxPayload: 1_048_576 }],
    ['2^53 - 1', { type: 'ack', maxPayload: Number.MAX_SAFE_INTEGER }],
  ]
  it.each(valid)('accepts maxPayload %s', (_name, message) => {
    expect(parseServerFrame(JSON.stringify(message))).toEqual({ ok: true, messages: [message] })
  })

  const invalid: [string, string][] = [
    ['0', '{"type":"ack","maxPayload":0}'],
    ['-1', '{"type":"ack","maxPayload":-1}'],
    ['1.5', '{"type":"ack","maxPayload":1.5}'],
    ['"1" (a string)', '{"type":"ack","maxPayload":"1"}'],
    ['null', '{"type":"ack","maxPayload":null}'],
    ['1e309 (Infinity)', '{"type":"ack","maxPayload":1e309}'],
    ['an object', '{"type":"ack","maxPayload":{}}'],
    ['true', '{"type":"ack","maxPayload":true}'],
  ]
  it.each(invalid)('refuses maxPayload %s', (_name, text) => {
    const result = parseServerFrame(text)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.reason).toBe('ack: invalid maxPayload')
  })

  it('refuses a whole batch when the ack in it is invalid, and accepts an ack batched with other messages', () => {
    expect(parseServerFrame('[{"type":"ack","maxPayload":0},{"type":"pong"}]')).toEqual({ ok: false, reason: 'message 0: ack: invalid maxPayload' })
    expect(parseServerFrame('[{"type":"ack","maxPayload":4096},{"type":"result","id":1}]')).toEqual({
      ok: true,
      messages: [
        { type: 'ack', maxPayload: 4_096 },
        { type: 'result', id: 1 },
      ],
    })
  })
})
