import { describe, expect, it } from 'vitest'
import { edit, useLockedBase } from './check-harness'
import { BASE_ROUTER } from './routers'

// `wirecall api check` against a lock of BASE_ROUTER: each output or event
// that can now hold what an old consumer does not expect exits 1.
const base = useLockedBase(BASE_ROUTER)

const ADD_OUTPUT = '.output(z.object({ id: z.string(), title: z.string(), state: z.enum([\'open\', \'closed\']) }))'
const ADD_RETURN = "({ id: '1', title: input.title, state: 'open' as const })"

describe('api check: breaking changes to outputs and events exit 1', () => {
  it.each<[string, readonly (readonly [string, string])[], string]>([
    ['an output field removed', [[ADD_OUTPUT, ".output(z.object({ id: z.string(), state: z.enum(['open', 'closed']) }))"], [ADD_RETURN, "({ id: '1', state: 'open' as const })"]], 'BREAKING post.add output: field "title" removed'],
    ['an output field made optional', [['title: z.string(), state', 'title: z.string().optional(), state']], 'BREAKING post.add output: field "title" made optional'],
    ['an output field made nullable', [['title: z.string(), state', 'title: z.string().nullable(), state']], 'BREAKING post.add output.title: made nullable'],
    ['an output type changed', [['id: z.string(), title', 'id: z.boolean(), title'], ["({ id: '1',", '({ id: true,']], 'BREAKING post.add output.id: type changed from string to boolean'],
    ['an output type widened', [['title: z.string(), state', 'title: z.union([z.string(), z.boolean()]), state']], 'BREAKING post.add output.title: may now be boolean'],
    ['an enum value added to an output', [["z.enum(['open', 'closed'])", "z.enum(['open', 'closed', 'archived'])"]], 'BREAKING post.add output.state: enum value "archived" added'],
    ['a union member added to an output', [["z.object({ kind: z.literal('error'), message: z.string() })", "z.object({ kind: z.literal('error'), message: z.string() }), z.object({ kind: z.literal('pending') })"]], 'BREAKING post.result output: union member added: object with kind "pending"'],
    ['a new output field when the old schema refuses extra fields', [['title: z.string(), state', 'title: z.string(), extra: z.string(), state'], ['title: input.title, state', "title: input.title, extra: 'x', state"]], 'BREAKING post.add output: new field "extra" (the old schema refuses extra fields)'],
    ['an output field removed (no validator: the TypeScript type)', [['({ ok: true, count: 1 })', '({ ok: true })']], 'BREAKING plain output: field "count" removed'],
    ['a changed event type', [["yield tracked('1', { n: 1 })", "yield tracked('1', { n: String(1) })"]], 'BREAKING ticks event.n: type changed from number to string'],
    ['a subscription that can now resync', [['import { initRpc, tracked }', 'import { initRpc, resync, tracked }'], ["yield tracked('1', { n: 1 })", "yield tracked('1', { n: 1 })\n    yield resync()"]], 'BREAKING ticks: can now resync (consumers built against the old API do not expect a resync)'],
  ])('%s', async (_name, edits, line) => {
    const result = await base.check(edit(BASE_ROUTER, ...edits))
    expect(result.stdout.split('\n'), result.stdout + result.stderr).toContain(line)
    expect(result.status).toBe(1)
  })
})
