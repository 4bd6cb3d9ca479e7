// The strongest test of `wirecall generate types`: the client made from the
// generated file is the client made from the router itself. The files
// imported here are checked in and kept current by generated-files.test.ts,
// which regenerates them and fails when they differ.
import type { inferClientApi } from '@wirecall/core'
import type { RpcClient } from '@wirecall/client'
import { describe, expectTypeOf, it } from 'vitest'
import type { AppApi } from './fixtures/app-api'
import type { AppApi as SelfContainedApi } from './fixtures/app-api.self-contained'
import type { AppRouter } from './fixtures/app-router'

describe('generated api.d.ts', () => {
  it('makes the same client as the router type', () => {
    expectTypeOf<RpcClient<AppApi>>().toEqualTypeOf<RpcClient<AppRouter>>()
  })

  it('makes the same client with --self-contained ($resync instead of ResyncSignal)', () => {
    expectTypeOf<RpcClient<SelfContainedApi>>().toEqualTypeOf<RpcClient<AppRouter>>()
  })

  it('makes the same client as inferClientApi', () => {
    expectTypeOf<RpcClient<AppApi>>().toEqualTypeOf<RpcClient<inferClientApi<AppRouter>>>()
  })

  it('keeps the payload types exact, leaf by leaf', () => {
    type Client = RpcClient<AppApi>
    type Router = RpcClient<AppRouter>
    expectTypeOf<Client['post']['add']['mutate']>().toEqualTypeOf<Router['post']['add']['mutate']>()
    expectTypeOf<Client['admin']['rich']['query']>().toEqualTypeOf<Router['admin']['rich']['query']>()
    expectTypeOf<Client['admin']['shapes']['query']>().toEqualTypeOf<Router['admin']['shapes']['query']>()
    expectTypeOf<Client['ticks']['subscribe']>().toEqualTypeOf<Router['ticks']['subscribe']>()
    expectTypeOf<Awaited<ReturnType<Client['admin']['categories']['query']>>['children'][number]['children']>().toEqualTypeOf<
      Awaited<ReturnType<Router['admin']['categories']['query']>>['children']
    >()
    expectTypeOf<Awaited<ReturnType<Client['admin']['rich']['query']>>>().not.toBeAny()
  })

  it('says $idempotent for idempotent mutations only', () => {
    expectTypeOf<AppApi['post']['upsert']['$idempotent']>().toEqualTypeOf<true>()
    expectTypeOf<AppApi['post']['add']>().not.toHaveProperty('$idempotent')
    expectTypeOf<SelfContainedApi['ticks']['$resync']>().toEqualTypeOf<true>()
  })
})
