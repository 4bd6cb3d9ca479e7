import { describe, expect, it } from 'vitest'
import { ERROR_CODES, RpcError, isRpcError, isRpcErrorCode, truncateCloseReason } from '@wirecall/core'

describe('RpcError', () => {
  it('carries code, message, data and cause', () => {
    const cause = new Error('db down')
    const error = new RpcError('CONFLICT', 'taken', { data: { field: 'name' }, cause })
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('RpcError')
    expect(error.code).toBe('CONFLICT')
    expect(error.message).toBe('taken')
    expect(error.data).toEqual({ field: 'name' })
    expect(error.cause).toBe(cause)
    expect(error.httpStatus).toBe(409)
    expect(error.retryable).toBe(false)
  })

  it('normalises anything with from()', () => {
    const original = new RpcError('NOT_FOUND')
    expect(RpcError.from(original)).toBe(original)
    const wrapped = RpcError.from(new TypeError('boom'))
    expect(wrapped.code).toBe('INTERNAL')
    expect(wrapped.message).toBe('boom')
    expect(wrapped.cause).toBeInstanceOf(TypeError)
    expect(RpcError.from('text').message).toBe('text')
    expect(RpcError.from(42, 'CONNECTION_LOST').code).toBe('CONNECTION_LOST')
    const abort = new Error('aborted')
    abort.name = 'AbortError'
    expect(RpcError.from(abort).code).toBe('CANCELLED')
  })

  it('recognises codes through own keys only', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(isRpcErrorCode(code)).toBe(true)
    for (const code of ['__proto__', 'constructor', 'toString', 'nope', 1, null]) expect(isRpcErrorCode(code)).toBe(false)
  })

  it('recognises an RpcError from another copy of the package by shape', () => {
    const foreign = Object.assign(new Error('x'), { name: 'RpcError', code: 'TIMEOUT' })
    expect(isRpcError(foreign)).toBe(true)
    expect(isRpcError(Object.assign(new Error('x'), { name: 'RpcError', code: 'NOPE' }))).toBe(false)
  })
})

describe('truncateCloseReason', () => {
  it('keeps short reasons', () => {
    expect(truncateCloseReason('bye')).toBe('bye')
  })

  it('cuts long reasons to 123 bytes without splitting a character', () => {
    const reason = 'é'.repeat(100) // 200 bytes
    const cut = truncateCloseReason(reason)
    expect(new TextEncoder().encode(cut).length).toBeLessThanOrEqual(123)
    expect(cut).toBe('é'.repeat(61))
    const emoji = truncateCloseReason('😀'.repeat(40))
    expect(new TextEncoder().encode(emoji).length).toBeLessThanOrEqual(123)
    expect(emoji).toBe('😀'.repeat(30))
  })
})

describe('RpcError from another copy of the package, or from plain JS', () => {
  class ForeignRpcError extends Error {
    override readonly name = 'RpcError'
    constructor(readonly code: string) {
      super('from the CJS copy')
    }
  }

  it('is kept as is when its code is in the table', () => {
    const foreign = new ForeignRpcError('CONFLICT')
    expect(isRpcError(foreign)).toBe(true)
    expect(RpcError.from(foreign)).toBe(foreign)
  })

  it('is normalised to INTERNAL when its code is not', () => {
    const teapot = new RpcError('TEAPOT' as never, 'short and stout')
    expect(isRpcError(teapot)).toBe(false)
    expect(RpcError.from(teapot)).toMatchObject({ code: 'INTERNAL', message: 'short and stout', cause: teapot })
    expect(isRpcError(new ForeignRpcError('TEAPOT'))).toBe(false)
  })
})
