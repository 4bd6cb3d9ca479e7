import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { inputAttribute, isServerFault, MAX_INPUT_LENGTH, serverAttributes } from '../src/attributes'
import { VERSION } from '../src/version'

/** The pure helpers behind the attributes: inputs as bounded JSON, a URL's server address, which codes are the server's fault. */

describe('inputAttribute', () => {
  it('writes JSON, BigInt as digits, and nothing for undefined', () => {
    expect(inputAttribute(() => ({ id: 1, big: 12n, tags: ['a'] }))).toBe('{"id":1,"big":"12","tags":["a"]}')
    expect(inputAttribute(() => undefined)).toBeUndefined()
  })

  it('cuts at 1,024 characters, never inside a surrogate pair', () => {
    expect(inputAttribute(() => 'x'.repeat(5_000))).toHaveLength(MAX_INPUT_LENGTH)
    // '"' then 1,022 x then an emoji across positions 1,023-1,024: the cut drops the whole emoji.
    const cut = inputAttribute(() => `${'x'.repeat(1_022)}😀tail`)!
    expect(cut).toBe(`"${'x'.repeat(1_022)}`)
  })

  it('records nothing, rather than failing the call, when the input cannot be written or read', () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    expect(inputAttribute(() => cycle)).toBeUndefined()
    expect(
      inputAttribute(() => {
        throw new Error('cannot decode')
      }),
    ).toBeUndefined()
  })
})

describe('serverAttributes', () => {
  it.each([
    ['ws://127.0.0.1:3000/rpc', { 'server.address': '127.0.0.1', 'server.port': 3000 }],
    ['wss://api.example.com/rpc', { 'server.address': 'api.example.com', 'server.port': 443 }],
    ['ws://example.com/rpc', { 'server.address': 'example.com', 'server.port': 80 }],
    ['ws://[::1]:8080/rpc', { 'server.address': '::1', 'server.port': 8080 }],
    ['not a url', {}],
    [undefined, {}],
  ])('%s', (url, expected) => {
    expect(serverAttributes(url)).toEqual(expected)
  })
})

it('marks only the server-side codes as a SERVER span error', () => {
  expect(['INTERNAL', 'NOT_IMPLEMENTED', 'OVERLOADED', 'CONNECTION_LOST'].every(isServerFault)).toBe(true)
  expect(['BAD_REQUEST', 'NOT_FOUND', 'UNAUTHORIZED', 'TIMEOUT', 'CANCELLED', 'TOO_MANY_REQUESTS'].some(isServerFault)).toBe(false)
})

it("reports the package's own version as the instrumentation scope's", () => {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  expect(VERSION).toBe(manifest.version)
})
