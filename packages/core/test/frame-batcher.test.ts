import { describe, expect, it } from 'vitest'
import { FrameBatcher, MAX_BATCH_CHARS, MAX_BATCH_MESSAGES } from '@wirecall/core'

/**
 * FrameBatcher on its own, with a fake scheduler: the test decides when the
 * turn ends by calling `flushScheduled()` itself.
 */

function setup(maxChars?: number) {
  const frames: string[] = []
  const scheduled: FrameBatcher[] = []
  const batcher = new FrameBatcher(
    { writeFrame: (frame) => void frames.push(frame) },
    (b) => scheduled.push(b),
    maxChars,
  )
  /** Ends the turn: what the owner's scheduler does. */
  const endTurn = () => {
    for (const b of scheduled.splice(0)) b.flushScheduled()
  }
  return { batcher, frames, scheduled, endTurn }
}

/** A message of exactly `length` characters of JSON (the batcher does not look inside). */
function messageOf(length: number, id = 1): string {
  const head = `{"id":${id},"d":"`
  return `${head}${'x'.repeat(length - head.length - 2)}"}`
}

describe('FrameBatcher', () => {
  it('has the documented bounds', () => {
    expect(MAX_BATCH_MESSAGES).toBe(1_000)
    expect(MAX_BATCH_CHARS).toBe(65_536)
    expect(setup().batcher.maxChars).toBe(MAX_BATCH_CHARS)
  })

  it('writes nothing until the turn ends, then a lone message as a plain frame', () => {
    const { batcher, frames, scheduled, endTurn } = setup()
    batcher.push('{"type":"pong"}')
    expect(frames).toEqual([])
    expect(scheduled).toHaveLength(1)
    endTurn()
    expect(frames).toEqual(['{"type":"pong"}'])
  })

  it('writes several messages of one turn as one array frame, in order', () => {
    const { batcher, frames, scheduled, endTurn } = setup()
    const messages = [1, 2, 3].map((id) => `{"type":"result","id":${id}}`)
    for (const m of messages) batcher.push(m)
    expect(scheduled, 'scheduled once per turn').toHaveLength(1)
    endTurn()
    expect(frames).toEqual([`[${messages.join(',')}]`])
    expect(JSON.parse(frames[0]!)).toEqual([1, 2, 3].map((id) => ({ type: 'result', id })))
  })

  it('flushes at once when a batch holds MAX_BATCH_MESSAGES, and starts the next', () => {
    const { batcher, frames, endTurn } = setup()
    for (let i = 0; i < 2_500; i++) batcher.push(`{"type":"result","id":${i}}`)
    expect(frames).toHaveLength(2) // 1,000 and 1,000 written during the turn
    endTurn()
    const batches = frames.map((f) => JSON.parse(f) as { id: number }[])
    expect(batches.map((b) => b.length)).toEqual([1_000, 1_000, 500])
    expect(batches.flat().map((m) => m.id)).toEqual(Array.from({ length: 2_500 }, (_, i) => i))
  })

  it('flushes before a message that would take the batch past maxChars; no frame is longer than maxChars + 1', () => {
    const { batcher, frames, endTurn } = setup(100)
    const m = messageOf(30) // 31 counted with its separator: three fit in 100, a fourth does not
    for (let i = 0; i < 7; i++) batcher.push(m)
    expect(frames).toEqual([`[${m},${m},${m}]`, `[${m},${m},${m}]`])
    expect(batcher.pendingChars).toBe(31)
    endTurn()
    expect(frames).toEqual([`[${m},${m},${m}]`, `[${m},${m},${m}]`, m])
    for (const frame of frames) expect(frame.length).toBeLessThanOrEqual(101)
  })

  it('fills a batch to exactly maxChars counted characters', () => {
    const { batcher, frames, endTurn } = setup(100)
    // 49 + 1 and 49 + 1: exactly 100.
    batcher.push(messageOf(49, 1))
    batcher.push(messageOf(49, 2))
    expect(batcher.pendingChars).toBe(100)
    expect(frames).toEqual([])
    batcher.push('{"type":"pong"}')
    expect(frames).toEqual([`[${messageOf(49, 1)},${messageOf(49, 2)}]`])
    endTurn()
    expect(frames[1]).toBe('{"type":"pong"}')
  })

  it('writes a message of maxChars or more alone, after what was held and before what follows', () => {
    const { batcher, frames, endTurn } = setup(100)
    const big = messageOf(100, 9)
    batcher.push('{"type":"result","id":1}')
    batcher.push('{"type":"result","id":2}')
    batcher.push(big)
    expect(frames).toEqual(['[{"type":"result","id":1},{"type":"result","id":2}]', big])
    expect(batcher.pendingChars).toBe(0)
    batcher.push('{"type":"result","id":3}')
    endTurn()
    expect(frames).toEqual(['[{"type":"result","id":1},{"type":"result","id":2}]', big, '{"type":"result","id":3}'])
  })

  it('writes an oversized message at once even with nothing held, and one just under the bound is batched', () => {
    const { batcher, frames, scheduled, endTurn } = setup(100)
    batcher.push(messageOf(150))
    expect(frames).toEqual([messageOf(150)])
    expect(scheduled, 'nothing to flush at the end of the turn').toHaveLength(0)
    batcher.push(messageOf(99))
    expect(frames).toHaveLength(1)
    endTurn()
    expect(frames).toEqual([messageOf(150), messageOf(99)])
  })

  it('clear() drops what is held: nothing is written at the end of the turn', () => {
    const { batcher, frames, endTurn } = setup()
    batcher.push('{"type":"result","id":1}')
    batcher.push('{"type":"result","id":2}')
    batcher.clear()
    expect(batcher.pendingChars).toBe(0)
    endTurn()
    expect(frames).toEqual([])
  })

  it('flushScheduled() resets the flag: the next turn is scheduled again, and a flush in between does not schedule twice', () => {
    const { batcher, frames, scheduled, endTurn } = setup()
    batcher.push('{"type":"result","id":1}')
    batcher.push('{"type":"result","id":2}')
    expect(scheduled).toHaveLength(1)
    endTurn()
    batcher.push('{"type":"result","id":3}')
    expect(scheduled, 'a new turn schedules a new flush').toHaveLength(1)
    // An explicit flush (a close) does not reset the flag: the pending turn-end flush still comes, and finds nothing.
    batcher.flush()
    batcher.push('{"type":"result","id":4}')
    expect(scheduled).toHaveLength(1)
    endTurn()
    expect(frames).toEqual(['[{"type":"result","id":1},{"type":"result","id":2}]', '{"type":"result","id":3}', '{"type":"result","id":4}'])
    endTurn()
    expect(frames).toHaveLength(3)
  })

  it('counts pendingChars as the messages plus one separator each, back to 0 after each flush', () => {
    const { batcher, endTurn } = setup()
    expect(batcher.pendingChars).toBe(0)
    batcher.push('{"type":"pong"}') // 15
    expect(batcher.pendingChars).toBe(16)
    batcher.push('{"type":"result","id":12}') // 25
    expect(batcher.pendingChars).toBe(16 + 26)
    endTurn()
    expect(batcher.pendingChars).toBe(0)
    batcher.push('{"type":"pong"}')
    batcher.flush()
    expect(batcher.pendingChars).toBe(0)
  })

  it('obeys a maxChars lowered between turns (the client learns the bound from ack)', () => {
    const { batcher, frames, endTurn } = setup()
    batcher.maxChars = 40
    batcher.push('{"type":"result","id":1}') // 24 + 1
    batcher.push('{"type":"result","id":2}') // would make 50
    expect(frames).toEqual(['{"type":"result","id":1}'])
    endTurn()
    expect(frames).toEqual(['{"type":"result","id":1}', '{"type":"result","id":2}'])
  })

  it('flush() with nothing held writes nothing', () => {
    const { batcher, frames } = setup()
    batcher.flush()
    batcher.flushScheduled()
    expect(frames).toEqual([])
  })
})
