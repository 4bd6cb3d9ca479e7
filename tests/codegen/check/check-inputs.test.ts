import { describe, expect, it } from 'vitest'
import { edit, useLockedBase } from './check-harness'
import { BASE_ROUTER } from './routers'

// `wirecall api check` against a lock of BASE_ROUTER, for a router file with
// one edit: each breaking change of a procedure or of its input exits 1 and
// names itself on one line.
const base = useLockedBase(BASE_ROUTER)

describe('api check: breaking changes to procedures and inputs exit 1', () => {
  it.each<[string, readonly (readonly [string, string])[], string]>([
    ['a removed procedure', [["  greet: rpc.procedure.input(z.object({ name: z.string() })).query(({ input }) => `hello ${input.name}`),\n", '']], 'BREAKING greet: removed (was a query)'],
    ['a changed kind', [['.query(({ input }) => `hello', '.mutation(({ input }) => `hello']], 'BREAKING greet: kind changed from query to mutation'],
    ['idempotent removed', [['rpc.procedure.idempotent().input', 'rpc.procedure.input']], 'BREAKING post.remove: no longer idempotent (clients built against the old API retry it after a lost connection)'],
    ['a new required input field', [['title: z.string().min(1), status', 'title: z.string().min(1), body: z.string(), status']], 'BREAKING post.add input: new required field "body"'],
    ['an optional input field made required', [['note: z.string().optional()', 'note: z.string()']], 'BREAKING post.strict input: field "note" made required'],
    ['a field removed when extra fields are refused', [['z.strictObject({ id: z.string(), note: z.string().optional() })', 'z.strictObject({ id: z.string() })']], 'BREAKING post.strict input: field "note" removed (extra fields are refused)'],
    ['an input type narrowed', [['tag: z.string().nullable()', 'tag: z.string()']], 'BREAKING post.list input.tag: no longer accepts null'],
    ['an input type changed', [['z.object({ name: z.string() })', 'z.object({ name: z.boolean() })']], 'BREAKING greet input.name: type changed from string to boolean'],
    ['an enum value removed from an input', [["z.enum(['draft', 'published'])", "z.enum(['published'])"]], 'BREAKING post.add input.status: enum value "draft" removed'],
    ['a tighter input bound', [['.max(100)', '.max(50)']], 'BREAKING post.list input.limit: tighter maximum: <= 50 (was <= 100)'],
    ['a tighter input length', [['title: z.string().min(1)', 'title: z.string().min(3)']], 'BREAKING post.add input.title: tighter minLength: 3 (was 1)'],
  ])('%s', async (_name, edits, line) => {
    const result = await base.check(edit(BASE_ROUTER, ...edits))
    expect(result.stdout.split('\n'), result.stdout + result.stderr).toContain(line)
    expect(result.stdout).toMatch(/^api check: \d+ breaking changes?.* against api\.lock\.json: consumers built against it may fail/m)
    expect(result.status).toBe(1)
  })

  it('a change the comparison cannot classify (a changed pattern) is breaking and says so', async () => {
    const result = await base.check(edit(BASE_ROUTER, ['/^[a-z]+$/', '/^[a-z0-9]+$/']))
    expect(result.stdout.split('\n')).toContain('BREAKING post.list input.slug: cannot tell whether compatible: pattern changed from /^[a-z]+$/ to /^[a-z0-9]+$/')
    expect(result.status).toBe(1)
  })
})
