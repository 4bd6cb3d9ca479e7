import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { findJsonSyntaxProblem } from '../../../packages/codegen/src/terminal/json-syntax'

/**
 * The locator behind "the input is not valid JSON … at position N": it
 * must agree with JSON.parse on what is JSON, and point at the first
 * character that is not.
 */

function parses(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

describe('findJsonSyntaxProblem', () => {
  it.each([
    ['{"name":}', 8, "unexpected '}', expected a value"],
    ['{"a":1', 6, 'unexpected end, expected "," or "}"'],
    ['{a:1}', 1, "unexpected 'a', expected a property name in double quotes"],
    ['[1,2,]', 5, "unexpected ']', expected a value"],
    ['', 0, 'unexpected end, expected a value'],
    ['"abc', 4, 'unterminated string'],
    ['{"a":1} x', 8, 'unexpected text after the value'],
    ["{'a':1}", 1, `unexpected "'", expected a property name in double quotes`],
    ['[01]', 2, "unexpected '1', expected \",\" or \"]\""],
    ['"a\\x"', 2, 'invalid escape'],
    ['"\\u12g4"', 1, 'invalid \\u escape'],
    ['"tab\there"', 4, 'control character in a string (escape it)'],
    ['{"a" 1}', 5, "unexpected '1', expected \":\""],
    ['-', 0, 'invalid number'],
    ['nul', 0, "unexpected 'n', expected a value"],
  ])('%j: position %i', (text, position, problem) => {
    expect(parses(text)).toBe(false)
    expect(findJsonSyntaxProblem(text)).toEqual({ position, problem })
  })

  it('finds nothing in what JSON.parse accepts', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(findJsonSyntaxProblem(text)).toBeUndefined()
      }),
      { numRuns: 500 },
    )
  })

  it('agrees with JSON.parse on damaged JSON and on arbitrary text', () => {
    const damaged = fc
      .tuple(fc.json(), fc.nat(), fc.constantFrom('', '}', ']', ',', ':', '"', '\\', 'x', ' ', '\n'), fc.nat(3))
      .map(([text, at, insert, cut]) => {
        const i = at % (text.length + 1)
        return text.slice(0, i) + insert + text.slice(i + cut)
      })
    fc.assert(
      fc.property(fc.oneof(damaged, fc.string()), (text) => {
        expect(findJsonSyntaxProblem(text) === undefined).toBe(parses(text))
      }),
      { numRuns: 2_000 },
    )
  })
})
