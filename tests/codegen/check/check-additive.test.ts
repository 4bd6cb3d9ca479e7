import { describe, expect, it } from 'vitest'
import { edit, useLockedBase } from './check-harness'
import { BASE_ROUTER } from './routers'

// `wirecall api check` against a lock of BASE_ROUTER: additive changes are
// listed, exit 0, and the summary says to record them with `api lock`.
const base = useLockedBase(BASE_ROUTER)
const RELOCK = 'run `wirecall api lock --router router.ts#appRouter --out api.lock.json` to record them'

describe('api check: additive changes exit 0', () => {
  it.each<[string, readonly (readonly [string, string])[], string]>([
    ['a new procedure', [['  post: {\n', '  post: {\n    archive: rpc.procedure.input(z.object({ id: z.string() })).mutation(() => true),\n']], 'added    post.archive (mutation)'],
    ['a new optional input field', [["status: z.enum(['draft', 'published']) }", "status: z.enum(['draft', 'published']), tags: z.array(z.string()).optional() }"]], 'additive post.add input: new optional field "tags"'],
    ['an input widened (a looser bound)', [['.min(1).max(100)', '.min(0).max(100)']], 'additive post.list input.limit: looser minimum: >= 0 (was >= 1)'],
    ['an input widened (null accepted)', [['z.object({ name: z.string() })', 'z.object({ name: z.string().nullable() })']], 'additive greet input.name: union member added: null'],
    ['an enum value added to an input', [["z.enum(['draft', 'published'])", "z.enum(['draft', 'published', 'archived'])"]], 'additive post.add input.status: enum value "archived" added'],
    ['a new output field when the schema lets consumers ignore extra fields', [['({ ok: true, count: 1 })', "({ ok: true, count: 1, label: 'x' })"]], 'additive plain output: new field "label"'],
    ['an enum value removed from an output', [["z.enum(['open', 'closed'])", "z.enum(['open'])"]], 'additive post.add output.state: enum value "closed" no longer produced'],
    ['a mutation made idempotent', [['strict: rpc.procedure.input', 'strict: rpc.procedure.idempotent().input']], 'additive post.strict: now idempotent'],
  ])('%s', async (_name, edits, line) => {
    const result = await base.check(edit(BASE_ROUTER, ...edits))
    const lines = result.stdout.split('\n')
    expect(lines, result.stdout + result.stderr).toContain(line)
    expect(lines.filter((l) => l.startsWith('BREAKING'))).toEqual([])
    expect(result.stdout).toContain(RELOCK)
    expect(result.status).toBe(0)
  })

  it('an equal API exits 0 and lists nothing', async () => {
    const result = await base.check(BASE_ROUTER)
    expect(result.stdout).toBe('api check: no API changes against api.lock.json\n')
    expect(result.status).toBe(0)
  })

  it('a description or example is not a change', async () => {
    const result = await base.check(edit(BASE_ROUTER, ['title: z.string().min(1)', "title: z.string().min(1).describe('shown in lists').meta({ examples: ['Hello'] })"]))
    expect(result.stdout).toBe('api check: no API changes against api.lock.json\n')
    expect(result.status).toBe(0)
  })
})
