import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { edit, repoRoot, run, useScratch } from './check-harness'
import { BASE_ROUTER } from './routers'

const scratch = useScratch()
const ROUTER = ['--router', 'router.ts#appRouter'] as const
const lock = (dir: string) => run(['api', 'lock', ...ROUTER, '--out', 'api.lock.json'], dir)
const check = (dir: string, ...extra: string[]) => run(['api', 'check', ...ROUTER, '--against', 'api.lock.json', ...extra], dir)
const NEW_PROCEDURE: readonly [string, string] = ['  post: {\n', '  post: {\n    archive: rpc.procedure.input(z.object({ id: z.string() })).mutation(() => true),\n']

describe('api lock', () => {
  it('writes pretty JSON with a trailing newline, the same bytes every time, whatever the docs say', async () => {
    const dir = scratch.folder({ 'router.ts': BASE_ROUTER })
    const first = await lock(dir)
    expect(first.status).toBe(0)
    expect(first.stderr).toBe('wirecall: wrote api.lock.json: 8 procedures\n')
    const text = readFileSync(join(dir, 'api.lock.json'), 'utf8')
    expect(text.startsWith('{\n  "format": "wirecall-api/1",\n')).toBe(true)
    expect(text.endsWith('}\n')).toBe(true)
    expect((await lock(dir)).status).toBe(0)
    expect(readFileSync(join(dir, 'api.lock.json'), 'utf8')).toBe(text)
    writeFileSync(join(dir, 'router.ts'), edit(BASE_ROUTER, ['title: z.string().min(1)', "title: z.string().min(1).describe('the headline')"]))
    expect((await lock(dir)).status).toBe(0)
    expect(readFileSync(join(dir, 'api.lock.json'), 'utf8')).toBe(text)
  }, 60_000)

  it('needs --router and --out', async () => {
    const dir = scratch.folder({ 'router.ts': BASE_ROUTER })
    const noOut = await run(['api', 'lock', ...ROUTER], dir)
    expect(noOut.status).toBe(1)
    expect(noOut.stderr).toMatch(/^wirecall: api lock needs --out <api\.lock\.json>\n\nwirecall — /)
    expect((await run(['api', 'lock', '--out', 'x.json'], dir)).stderr).toMatch(/^wirecall: api lock needs --router/)
    expect((await run(['api', 'lock', ...ROUTER, '--out', 'x.json', '--against', 'y'], dir)).stderr).toMatch(/^wirecall: api lock: --against is not an option of this command/)
  })
})

describe('api check: the lock file', () => {
  it('exits 1 when the lock file is missing, saying to run api lock', async () => {
    const dir = scratch.folder({ 'router.ts': BASE_ROUTER })
    const result = await check(dir)
    expect(result.status).toBe(1)
    expect(result.stderr).toBe('wirecall: api check: no lock file at api.lock.json; run `wirecall api lock --router router.ts#appRouter --out api.lock.json` to create it\n')
  })

  it.each([
    ['not JSON', '{ "format": ', 'it is not JSON'],
    ['another kind of file', '{ "name": "my-app" }', 'it has no "format": "wirecall-api/1"'],
    ['a newer format', '{ "format": "wirecall-api/2", "protocol": "wirecall.v1", "procedures": {} }', 'its format "wirecall-api/2" is not one this wirecall reads'],
    ['a procedure without a kind', '{ "format": "wirecall-api/1", "protocol": "wirecall.v1", "procedures": { "greet": { "input": {}, "output": {} } } }', 'procedure "greet" has no kind'],
    ['a procedure without schemas', '{ "format": "wirecall-api/1", "protocol": "wirecall.v1", "procedures": { "greet": { "kind": "query" } } }', 'procedure "greet" needs "input" and "output" schema objects'],
  ])('exits 1 when the lock file is malformed: %s', async (_name, text, why) => {
    const dir = scratch.folder({ 'router.ts': BASE_ROUTER, 'api.lock.json': text })
    const result = await check(dir)
    expect(result.status).toBe(1)
    expect(result.stderr).toContain(`wirecall: api check: api.lock.json is not a wirecall API lock file: ${why}`)
    expect(result.stderr).toContain('run `wirecall api lock --router router.ts#appRouter --out api.lock.json` to write it again')
  })

  it('needs --against', async () => {
    const dir = scratch.folder({ 'router.ts': BASE_ROUTER })
    const result = await run(['api', 'check', ...ROUTER], dir)
    expect(result.status).toBe(1)
    expect(result.stderr).toMatch(/^wirecall: api check needs --against <api\.lock\.json>/)
  })
})

describe('api check --types', () => {
  it('exits 0 when api.d.ts is what generate types writes now, and 1 once the router changed without regenerating', async () => {
    const dir = scratch.folder({ 'router.ts': BASE_ROUTER })
    expect((await lock(dir)).status).toBe(0)
    expect((await run(['generate', 'types', ...ROUTER, '--out', 'api.d.ts'], dir)).status).toBe(0)
    const fresh = await check(dir, '--types', 'api.d.ts')
    expect(fresh.stdout).toBe('api check: no API changes against api.lock.json\n')
    expect(fresh.status).toBe(0)

    writeFileSync(join(dir, 'router.ts'), edit(BASE_ROUTER, NEW_PROCEDURE))
    const stale = await check(dir, '--types', 'api.d.ts')
    const lines = stale.stdout.split('\n')
    expect(lines).toContain('added    post.archive (mutation)')
    expect(lines.some((line) => /^STALE {4}api\.d\.ts: not what `wirecall generate types` writes now \(first difference at line \d+\); run it again$/.test(line))).toBe(true)
    expect(stale.status).toBe(1)
    // The same additive change without --types passes.
    expect((await check(dir)).status).toBe(0)
  }, 60_000)

  it('reads the type name and the import style from the file', async () => {
    const dir = scratch.folder({ 'router.ts': BASE_ROUTER })
    expect((await lock(dir)).status).toBe(0)
    expect((await run(['generate', 'types', ...ROUTER, '--out', 'named.d.ts', '--name', 'ShopApi', '--self-contained'], dir)).status).toBe(0)
    expect((await check(dir, '--types', 'named.d.ts')).status).toBe(0)
    // Told otherwise, it compares with that and finds the file stale.
    expect((await check(dir, '--types', 'named.d.ts', '--name', 'AppApi')).status).toBe(1)
  }, 60_000)

  it('exits 1 when the file is missing', async () => {
    const dir = scratch.folder({ 'router.ts': BASE_ROUTER })
    expect((await lock(dir)).status).toBe(0)
    const result = await check(dir, '--types', 'api.d.ts')
    expect(result.status).toBe(1)
    expect(result.stderr).toMatch(/^wirecall: --types: cannot read .*api\.d\.ts/)
  }, 60_000)
})

describe('the built bin', () => {
  const bin = join(repoRoot, 'packages/codegen/dist/cli.js')

  /** `node dist/cli.js …` in `cwd`; killed if it runs past 60 s. */
  function runBin(args: readonly string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`wirecall ${args.join(' ')} ran past 60 s:\n${stdout}${stderr}`))
      }, 60_000)
      child.on('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
      child.on('close', (code) => {
        clearTimeout(timer)
        resolve({ code, stdout, stderr })
      })
    })
  }

  it('locks, then exits 1 with the breaking change listed, in a child process', async () => {
    expect(existsSync(bin), 'build it first: pnpm --filter @wirecall/codegen build').toBe(true)
    const dir = scratch.folder({ 'router.ts': BASE_ROUTER })
    const locked = await runBin(['api', 'lock', ...ROUTER, '--out', 'api.lock.json'], dir)
    expect(locked.code, locked.stderr).toBe(0)
    writeFileSync(join(dir, 'router.ts'), edit(BASE_ROUTER, ['title: z.string().min(1), status', 'title: z.string().min(1), body: z.string(), status']))
    const checked = await runBin(['api', 'check', ...ROUTER, '--against', 'api.lock.json'], dir)
    expect(checked.stdout).toContain('BREAKING post.add input: new required field "body"\n')
    expect(checked.code).toBe(1)
  }, 120_000)
})
