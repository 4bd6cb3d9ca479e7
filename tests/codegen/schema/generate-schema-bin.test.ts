import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, expect, test } from 'vitest'

// The built bin in a child process, on the rich fixture (zod, valibot and
// arktype, each through its own converter): what a user's CI runs. Needs
// `pnpm --filter @wirecall/codegen build` first (`pnpm test` builds).

const bin = fileURLToPath(new URL('../../../packages/codegen/dist/cli.js', import.meta.url))
const router = join(__dirname, 'fixtures', 'rich-router.ts')

let dir: string | undefined
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  dir = undefined
})

function runBin(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, timeout: 60_000, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr })
    })
  })
}

test('wirecall generate schema --strict on zod, valibot and arktype validators: exit 0, every side from its library', async () => {
  dir = await mkdtemp(join(tmpdir(), 'wirecall-schema-bin-'))
  const result = await runBin(['generate', 'schema', '--router', `${router}#richRouter`, '--out', 'schema', '--strict'], dir)
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  expect(result.stdout).toContain('wrote 7 files (3 procedures) to schema')
  expect((await readdir(join(dir, 'schema'))).sort()).toEqual([
    'arktype.save.input.json',
    'arktype.save.output.json',
    'index.json',
    'valibot.save.input.json',
    'valibot.save.output.json',
    'zod.save.input.json',
    'zod.save.output.json',
  ])
  const index = JSON.parse(await readFile(join(dir, 'schema', 'index.json'), 'utf8')) as {
    procedures: Record<string, { input: { library?: string }; output: { library?: string } }>
  }
  for (const library of ['zod', 'valibot', 'arktype']) {
    expect(index.procedures[`${library}.save`]).toMatchObject({ input: { source: 'validator', library }, output: { source: 'validator', library } })
  }
}, 90_000)
