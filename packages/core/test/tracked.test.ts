import { describe, expect, it } from 'vitest'
import { MAX_EVENT_ID_LENGTH, isResync, isTracked, positionOf, resync, tracked, withPosition } from '@wirecall/core'

describe('tracked', () => {
  it('wraps data with an id the client keeps', () => {
    const event = tracked('7', { n: 7 })
    expect(isTracked(event)).toBe(true)
    expect(event).toMatchObject({ id: '7', data: { n: 7 } })
    expect(isTracked({ id: '7', data: 1 })).toBe(false)
  })

  it('refuses an id the wire would refuse: empty, too long, not a string', () => {
    expect(() => tracked('', 1)).toThrow(TypeError)
    expect(() => tracked('x'.repeat(MAX_EVENT_ID_LENGTH + 1), 1)).toThrow(/1 to 1024/)
    expect(() => tracked(42 as unknown as string, 1)).toThrow(TypeError)
    expect(tracked('x'.repeat(MAX_EVENT_ID_LENGTH), 1).id).toHaveLength(MAX_EVENT_ID_LENGTH)
  })

  it('has one resync signal, told apart from data', () => {
    expect(isResync(resync())).toBe(true)
    expect(resync()).toBe(resync())
    expect(isResync({})).toBe(false)
    expect(isResync(tracked('1', null))).toBe(false)
  })
})

describe('stream position', () => {
  it('is read from an iterator made with withPosition, and absent otherwise', async () => {
    async function* numbers() {
      yield 1
    }
    let position = 'p.1'
    const iterator = withPosition(numbers(), () => position)
    position = 'p.2'
    expect(positionOf(iterator)).toBe('p.2')
    expect(positionOf(numbers())).toBeUndefined()
    // The iterator still works as before.
    expect(await iterator.next()).toEqual({ done: false, value: 1 })
  })

  it('ignores a position that is not a string', () => {
    async function* empty() {}
    expect(positionOf(withPosition(empty(), () => undefined))).toBeUndefined()
  })
})
