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
  })

  it('accepts procedures that need less than the router provides', () => {
    const app = priv.router({ open, secret, nested: pub.router({ open }) })
    expectTypeOf<inferRouterContext<typeof app>>().toEqualTypeOf<{ user: { id: string } }>()
    expectTypeOf<inferRouterOutputs<typeof app>['nested']['open']>().toEqualTypeOf<string>()
  })

  it('flags reserved keys at compile time', () => {
    // @ts-expect-error "$connection" is reserved for the client proxy
    pub.router({ $connection: open })
    // @ts-expect-error "then" would make the client proxy a thenable
    pub.router({ then: open })
    pub.router({ ok: open, dollar$: open })
  })
})
