import { describe, expect, it } from 'vitest'
import { canonicalJsonOfPeerValue, jsonOfPeerValue } from '../src/session/payload'

describe('canonicalJsonOfPeerValue', () => {
  it('writes the same text for the same value whatever the order of its keys, at any depth', () => {
    const one = JSON.parse('{"b":{"y":[1,{"q":1,"p":2}],"x":null},"a":"s","10":1,"2":2}') as unknown
    const other = JSON.parse('{"2":2,"a":"s","10":1,"b":{"x":null,"y":[1,{"p":2,"q":1}]}}') as unknown
    expect(canonicalJsonOfPeerValue(one)).toBe(canonicalJsonOfPeerValue(other))
    expect(canonicalJsonOfPeerValue([2, 1])).not.toBe(canonicalJsonOfPeerValue([1, 2]))
  })

  it('keeps an own __proto__ key as data', () => {
    const value = JSON.parse('{"z":1,"__proto__":{"polluted":true}}') as unknown
    expect(canonicalJsonOfPeerValue(value)).toBe('{"__proto__":{"polluted":true},"z":1}')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('answers undefined, instead of throwing, for a value nested past the stack', () => {
    let deep: unknown = 1
    for (let i = 0; i < 100_000; i++) deep = [deep]
    expect(canonicalJsonOfPeerValue(deep)).toBeUndefined()
    expect(jsonOfPeerValue(deep)).toBeUndefined()
  })
})
