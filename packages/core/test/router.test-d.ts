import { describe, expectTypeOf, it } from 'vitest'
import { initRpc, type inferRouterContext, type inferRouterOutputs } from '@wirecall/core'

const pub = initRpc.create()
const priv = initRpc.context<{ user: { id: string } }>().create()
const open = pub.procedure.query(() => 'open')
const secret = priv.procedure.query(({ ctx }) => ctx.user.id)

describe('router() context checks', () => {
  it('refuses a procedure built for a richer context', () => {
    // @ts-expect-error secret needs ctx.user, which this router's context does not have
    pub.router({ secret })
    // @ts-expect-error the same, nested in a plain object
    pub.router({ a: { b: { secret } } })
    // @ts-expect-error the same, through a nested router
    pub.router({ nested: priv.router({ secret }) })
    // @ts-expect-error the same, merged
    pub.mergeRouters(pub.router({ open }), priv.router({ secret }))
  })

  it('refuses a context key of another type', () => {
    const numeric = initRpc.context<{ user: { id: number } }>().create()
    // @ts-expect-error secret needs ctx.user.id to be a string
    numeric.router({ secret })
  })

  it('names the reason in the type the entry is checked against', () => {
    type Arg = Parameters<typeof pub.router<{ secret: typeof secret; open: typeof open }>>[0]
    expectTypeOf<Arg['secret']>().toEqualTypeOf<"needs context key 'user', which this router's context does not have">()
    expectTypeOf<Arg['open']>().toEqualTypeOf<typeof open>()
  })

  it('accepts procedures that need less than the router provides', () => {
    const app = priv.router({ open, secret, nested: pub.router({ open }) })
    const merged = priv.mergeRouters(app, pub.router({ more: open }))
    expectTypeOf<inferRouterOutputs<typeof merged>['more']>().toEqualTypeOf<string>()
    expectTypeOf<inferRouterContext<typeof app>>().toEqualTypeOf<{ user: { id: string } }>()
    expectTypeOf<inferRouterOutputs<typeof app>['nested']['open']>().toEqualTypeOf<string>()
  })

  it('flags reserved keys at compile time', () => {
    // @ts-expect-error "$connection" is reserved for the client proxy
    pub.router({ $connection: open })
    // @ts-expect-error "then" would make the client proxy a thenable
    pub.router({ then: open })
    // @ts-expect-error reserved at any depth, as the runtime check is
    pub.router({ a: { $b: open } })
    pub.router({ ok: open, dollar$: open })
  })
})
