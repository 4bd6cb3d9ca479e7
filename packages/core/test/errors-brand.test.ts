import { describe, expect, it } from 'vitest'
import { RpcError } from '../src/errors'

/**
 * `instanceof RpcError` across copies of the module. A second copy is the
 * same source file loaded again under another module id (the query string
 * makes Vite evaluate it anew), so it has its own `RpcError` class, as the
 * CJS build has beside the ESM one; tests/build/dual-error.test.ts does the
 * same with the two real builds.
 */

type ErrorsModule = typeof import('../src/errors')
// A variable, so that the compiler does not look for a file named with the query.
const secondCopy = '../src/errors.ts?second-copy'
const loadCopy = () => import(secondCopy) as Promise<ErrorsModule>

describe('RpcError across copies of @wirecall/core', () => {
  it('is a second class, yet instanceof holds both ways', async () => {
    const other = await loadCopy()
    expect(other.RpcError).not.toBe(RpcError)
    expect(new other.RpcError('CONFLICT', 'taken')).toBeInstanceOf(RpcError)
    expect(new RpcError('TIMEOUT')).toBeInstanceOf(other.RpcError)
    expect(RpcError.from(new other.RpcError('NOT_FOUND'))).toBeInstanceOf(other.RpcError)
  })

  it('keeps the brand out of keys, spreads and JSON', () => {
    const error = new RpcError('CONFLICT', 'taken', { data: { field: 'name' } })
    expect(Object.keys(error)).toEqual(['name', 'code', 'data'])
    expect(JSON.stringify({ ...error })).toBe('{"name":"RpcError","code":"CONFLICT","data":{"field":"name"}}')
    expect(Object.getOwnPropertySymbols(error).map(String)).toEqual(['Symbol(wirecall.RpcError)'])
  })

  it('is not fooled by look-alikes: a plain Error named RpcError, a null, a primitive', () => {
    expect(Object.assign(new Error('x'), { name: 'RpcError', code: 'TIMEOUT' })).not.toBeInstanceOf(RpcError)
    expect(RpcError[Symbol.hasInstance](null)).toBe(false)
    expect(RpcError[Symbol.hasInstance]('RpcError')).toBe(false)
    expect(Object.create(RpcError.prototype) instanceof RpcError).toBe(false)
  })

  it('checks the prototype chain for a subclass', async () => {
    class NotFound extends RpcError {
      constructor(what: string) {
        super('NOT_FOUND', `no ${what}`)
      }
    }
    const other = await loadCopy()
    const mine = new NotFound('post')
    expect(mine).toBeInstanceOf(NotFound)
    expect(mine).toBeInstanceOf(RpcError)
    expect(mine).toBeInstanceOf(other.RpcError)
    expect(mine).toBeInstanceOf(Error)
    expect(new RpcError('NOT_FOUND')).not.toBeInstanceOf(NotFound)
    expect(new other.RpcError('NOT_FOUND')).not.toBeInstanceOf(NotFound)
  })
})
