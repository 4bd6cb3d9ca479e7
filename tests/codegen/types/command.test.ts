import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CliError, main } from '@wirecall/codegen'
import { loadTypeScript } from '../../../packages/codegen/src/types/load-typescript'
import { captureIo, FIXTURES, REPO } from './helpers'

const run = promisify(execFile)
const BIN = join(REPO, 'packages/codegen/dist/cli.js')

let work: string
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'wirecall-types-'))
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

describe('wirecall generate types', { timeout: 90_000 }, () => {
  it('writes the file (making its folders) and prints one summary line', async () => {
    const io = captureIo(FIXTURES)
    const out = join(work, 'nested/dir/api.d.ts')
    const status = await main(['generate', 'types', '--router', 'app-router.ts#appRouter', '--out', out, '--name', 'ShopApi', '--self-contained'], io)
    expect(status).toBe(0)
    expect(io.err()).toMatch(/^wirecall: wrote .*api\.d\.ts: 11 procedures, 3 named types \(\d+ ms\)\n$/)
    expect(io.out()).toBe('')
    const text = await readFile(out, 'utf8')
    expect(text).toContain('export type ShopApi = {')
    expect(text).not.toContain('import')
  })

  it('finds the only router export when none is named', async () => {
    const dir = join(work, 'default-export')
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'router.ts'), "import { initRpc } from '@wirecall/core'\nconst rpc = initRpc.create()\nexport const onlyRouter = rpc.router({ ping: rpc.procedure.query(() => 'pong' as const) })\n")
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ extends: join(REPO, 'tsconfig.json') }))
    const io = captureIo(dir)
    expect(await main(['generate', 'types', '--router', 'router.ts', '--out', 'api.d.ts'], io)).toBe(0)
    expect(await readFile(join(dir, 'api.d.ts'), 'utf8')).toContain("  ping: {\n    $kind: 'query'\n    $input: void | undefined\n    $output: 'pong'\n  }\n")
  })

  it('reads a JavaScript router, its types inferred by the checker', async () => {
    const dir = join(work, 'javascript')
    await mkdir(dir, { recursive: true })
    await writeFile(
      join(dir, 'router.js'),
      "import { initRpc } from '@wirecall/core'\nconst rpc = initRpc.create()\nexport const jsRouter = rpc.router({ add: rpc.procedure.mutation(() => ({ sum: 3, at: new Date() })) })\n",
    )
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ extends: join(REPO, 'tsconfig.json') }))
    const io = captureIo(dir)
    expect(await main(['generate', 'types', '--router', 'router.js#jsRouter', '--out', 'api.d.ts'], io)).toBe(0)
    expect(await readFile(join(dir, 'api.d.ts'), 'utf8')).toContain("  add: {\n    $kind: 'mutation'\n    $input: void | undefined\n    $output: {\n      sum: number\n      at: Date\n    }\n  }\n")
  })

  it('compiles with --tsconfig instead of the nearest one', async () => {
    const dir = join(work, 'tsconfig-flag')
    await mkdir(dir, { recursive: true })
    // Without exactOptionalPropertyTypes an optional field always admits undefined, and the file says so.
    const base = JSON.parse(await readFile(join(REPO, 'tsconfig.base.json'), 'utf8')) as { compilerOptions: Record<string, unknown> }
    const root = JSON.parse(await readFile(join(REPO, 'tsconfig.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } }
    const paths = Object.fromEntries(Object.entries(root.compilerOptions.paths).map(([name, [target]]) => [name, [join(REPO, target!)]]))
    await writeFile(join(dir, 'loose.json'), JSON.stringify({ compilerOptions: { ...base.compilerOptions, exactOptionalPropertyTypes: false, lib: ['ES2022', 'DOM'], paths } }))
    const io = captureIo(dir)
    const status = await main(['generate', 'types', '--router', join(FIXTURES, 'app-router.ts#appRouter'), '--tsconfig', 'loose.json', '--out', 'api.d.ts'], io)
    expect({ status, err: io.err() }).toMatchObject({ status: 0 })
    expect(await readFile(join(dir, 'api.d.ts'), 'utf8')).toContain('  email?: string | undefined\n')
    const missing = captureIo(dir)
    expect(await main(['generate', 'types', '--router', join(FIXTURES, 'app-router.ts#appRouter'), '--tsconfig', 'nope.json', '--out', 'api.d.ts'], missing)).toBe(1)
    expect(missing.err()).toMatch(/^wirecall: --tsconfig: no file .*nope\.json\n$/)
  })

  it.each([
    [['--out', 'x.d.ts'], 'generate types needs one of --router <file>#<export> or --url <ws-url>'],
    [['--router', 'a.ts#r', '--url', 'ws://127.0.0.1:1', '--out', 'x.d.ts'], 'generate types needs one of --router <file>#<export> or --url <ws-url>'],
    [['--router', 'a.ts#r'], 'generate types needs --out <file.d.ts>'],
    [['--router', 'a.ts#r', '--out', 'x.d.ts', '--bogus'], "generate types: Unknown option '--bogus'"],
    [['--router', 'a.ts#r', '--out', 'x.d.ts', '--name', 'not-a-name'], '--name: "not-a-name" is not an identifier'],
    [['--router', 'a.ts#r', '--out', 'x.d.ts', '--params', '{}'], '--params goes with --url, not --router'],
  ])('refuses bad arguments with the usage: %j', async (args, message) => {
    const io = captureIo(FIXTURES)
    expect(await main(['generate', 'types', ...args], io)).toBe(1)
    expect(io.err()).toContain(`wirecall: ${message}`)
    expect(io.err()).toContain('wirecall generate types  --router')
  })

  it('says which routers there are when the export is wrong, and when the file is missing', async () => {
    const io = captureIo(FIXTURES)
    expect(await main(['generate', 'types', '--router', 'refused-router.ts#nope', '--out', join(work, 'x.d.ts')], io)).toBe(1)
    expect(io.err()).toContain('has no router exported as "nope" (its routers are: functionRouter, classRouter, symbolRouter, inputFunctionRouter, symbolKeyRouter)')
    const missing = captureIo(FIXTURES)
    expect(await main(['generate', 'types', '--router', 'missing.ts#r', '--out', join(work, 'x.d.ts')], missing)).toBe(1)
    expect(missing.err()).toMatch(/^wirecall: --router: no file .*missing\.ts\n$/)
  })

  it('loads a router outside the repository, with its own package.json and no TypeScript of its own', async () => {
    const dir = join(work, 'outside')
    await mkdir(join(dir, 'node_modules/@wirecall'), { recursive: true })
    await cp(join(FIXTURES, 'app-router.ts'), join(dir, 'src/router.ts'))
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'outside-app', private: true, type: 'module' }))
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, exactOptionalPropertyTypes: true, module: 'ESNext', moduleResolution: 'Bundler', target: 'ES2022', lib: ['ES2022', 'DOM'], skipLibCheck: true } }))
    await symlink(join(REPO, 'packages/core'), join(dir, 'node_modules/@wirecall/core'), 'dir')
    await symlink(join(REPO, 'node_modules/zod'), join(dir, 'node_modules/zod'), 'dir')
    const io = captureIo(dir)
    expect(await main(['generate', 'types', '--router', 'src/router.ts#appRouter', '--out', 'api.d.ts'], io)).toBe(0)
    // The same projection as from inside the repository (the core's built .d.ts instead of its sources).
    expect(await readFile(join(dir, 'api.d.ts'), 'utf8')).toBe(await readFile(join(FIXTURES, 'app-api.d.ts'), 'utf8'))
  })

  it('takes the options of the referenced project that holds the router, under a solution-style tsconfig', async () => {
    const dir = join(work, 'solution')
    await mkdir(join(dir, 'node_modules/@wirecall'), { recursive: true })
    await cp(join(FIXTURES, 'app-router.ts'), join(dir, 'src/router.ts'))
    await symlink(join(REPO, 'packages/core'), join(dir, 'node_modules/@wirecall/core'), 'dir')
    await symlink(join(REPO, 'node_modules/zod'), join(dir, 'node_modules/zod'), 'dir')
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ files: [], references: [{ path: './tsconfig.app.json' }] }))
    // Without these options (the solution file has none) `nickname?: string | undefined` would lose its undefined.
    const app = { strict: true, exactOptionalPropertyTypes: true, module: 'ESNext', moduleResolution: 'Bundler', target: 'ES2022', lib: ['ES2022', 'DOM'], skipLibCheck: true, composite: true }
    await writeFile(join(dir, 'tsconfig.app.json'), JSON.stringify({ compilerOptions: app, include: ['src'] }))
    const io = captureIo(dir)
    expect(await main(['generate', 'types', '--router', 'src/router.ts#appRouter', '--out', 'api.d.ts'], io)).toBe(0)
    expect(await readFile(join(dir, 'api.d.ts'), 'utf8')).toBe(await readFile(join(FIXTURES, 'app-api.d.ts'), 'utf8'))
  })

  it('passes over a TypeScript 7 beside the router (no JS compiler API) for its own', async () => {
    const dir = join(work, 'ts7')
    await mkdir(join(dir, 'node_modules'), { recursive: true })
    await symlink(join(REPO, 'node_modules/typescript-7'), join(dir, 'node_modules/typescript'), 'dir')
    const own = join(REPO, 'packages/codegen/src/types')
    expect(loadTypeScript([dir, own]).ts.version).toMatch(/^5\./)
    let error: unknown
    try {
      loadTypeScript([dir])
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(CliError)
    expect(error).toMatchObject({ code: 'LOAD', message: expect.stringContaining('install it beside your router, npm install -D typescript@5.9') })
  })

  it('finds a TypeScript 5 installed as typescript-5 beside a TypeScript 7 (a project on 7 cannot have two packages named typescript)', async () => {
    const dir = join(work, 'ts7-alias')
    await mkdir(join(dir, 'node_modules'), { recursive: true })
    await symlink(join(REPO, 'node_modules/typescript-7'), join(dir, 'node_modules/typescript'), 'dir')
    await symlink(join(REPO, 'node_modules/typescript'), join(dir, 'node_modules/typescript-5'), 'dir')
    const loaded = loadTypeScript([dir])
    expect(loaded.ts.version).toMatch(/^5\./)
  })

  it('runs as the built bin in a child process', async () => {
    expect(existsSync(BIN), 'build first: pnpm --filter @wirecall/codegen build').toBe(true)
    const out = join(work, 'bin/api.d.ts')
    const { stdout, stderr } = await run(process.execPath, [BIN, 'generate', 'types', '--router', join(FIXTURES, 'app-router.ts#appRouter'), '--out', out], {
      cwd: REPO,
      timeout: 60_000,
    })
    expect(stdout).toBe('')
    expect(stderr).toMatch(/^wirecall: wrote .*: 11 procedures, 3 named types \(\d+ ms\)\n$/)
    expect(await readFile(out, 'utf8')).toBe(await readFile(join(FIXTURES, 'app-api.d.ts'), 'utf8'))
    const failed = await run(process.execPath, [BIN, 'generate', 'types', '--router', join(FIXTURES, 'refused-router.ts#symbolRouter'), '--out', out], { cwd: REPO, timeout: 60_000 }).catch(
      (error: { code: number; stderr: string }) => error,
    )
    expect(failed).toMatchObject({ code: 1, stderr: 'wirecall: tagged output → .tag: a symbol cannot cross the wire\n' })
  })
})
