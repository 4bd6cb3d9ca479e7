import { describe, expect, expectTypeOf, it } from 'vitest'
import { RpcError, createCaller, initRpc } from '@wirecall/core'

type Meta = { role?: 'admin'; rateClass?: 'cheap' | 'costly' }
const rpc = initRpc.context<{ admin?: boolean }>().meta<Meta>().create()
const seen: (Meta | undefined)[] = []
const guarded = rpc.procedure.use(({ ctx, meta, next }) => {
  expectTypeOf(meta).toEqualTypeOf<Meta | undefined>()
  seen.push(meta)
  if (meta?.role === 'admin' && ctx.admin !== true) throw new RpcError('FORBIDDEN', 'admins only')
  return next()
})
const router = rpc.router({
  open: guarded.query(() => 'open'),
  purge: guarded.meta({ role: 'admin' }).meta({ rateClass: 'costly' }).mutation(() => 'purged'),
})

describe('.meta()', () => {
  it('reaches every middleware, merged over shared builders', async () => {
    seen.length = 0
    await expect(createCaller(router, {}).purge()).rejects.toMatchObject({ code: 'FORBIDDEN' })
    expect(await createCaller(router, { admin: true }).purge()).toBe('purged')
    expect(await createCaller(router, {}).open()).toBe('open')
    expect(seen).toEqual([{ role: 'admin', rateClass: 'costly' }, { role: 'admin', rateClass: 'costly' }, undefined])
  })

  it('is typed by initRpc.meta<T>()', () => {
    // @ts-expect-error 'owner' is not a role this API declares
    expect(() => guarded.meta({ role: 'owner' })).not.toThrow()
    expect(() => guarded.meta(null as never)).toThrow(TypeError)
  })

  it('is typed in shared middleware too', () => {
    const logged = rpc.middleware(({ meta, next }) => {
      expectTypeOf(meta).toEqualTypeOf<Meta | undefined>()
      return next()
    })
    expect(typeof logged).toBe('function')
  })
})
