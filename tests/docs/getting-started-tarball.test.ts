import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { BlockDiagnostic } from './compile-blocks'
import { checkExpectedErrors } from './expected-errors'
import { repoRoot } from './markdown'
import { pageSteps, type Step } from './page-steps'

/**
 * docs/getting-started.md, followed as a newcomer follows it (issue 17,
 * point 2): in an empty temporary folder, every command of the page is run
 * and every file of the page is saved, in the page's order, with npm and
 * the public registry. The only change to the page: `@wirecall/*` in an
 * install command is the tarball `pnpm pack` made of the built package, so
 * what is tested is what would be published. TypeScript is what
 * `npm install -D typescript` installs today (7.x); the repository's 5.9
 * checks the folder beside it.
 *
 * The page's server is started in the background on a free port (the page
 * documents `PORT`) and must print what the page shows; the client must
 * print what the page shows (ids and years aside). `npx tsc --noEmit` must
 * pass, except while a file the page marks `expect-error` exists: then it
 * must fail on exactly the lines the page marks. `pnpm test` builds first;
 * run `pnpm build` before running this file alone.
 */

const PAGE = 'docs/getting-started.md'
const PACKAGES = ['core', 'server', 'client']
const COMMAND_TIMEOUT_MS = 180_000
const SERVER_START_TIMEOUT_MS = 60_000

const work = mkdtempSync(join(tmpdir(), 'wirecall-getting-started-'))
const app = join(work, 'app')
let server: ChildProcess | undefined

afterAll(async () => {
  if (server) await stopGroup(server)
  rmSync(work, { recursive: true, force: true })
})

/**
 * The environment of a reader's shell: without what pnpm or vitest set for
 * this run (`npm_config_*` from pnpm would steer npm), and quiet about
 * funding and audits, which need the network for nothing the page needs.
 */
function readerEnv(port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_|NODE_OPTIONS$|VITEST|TS_NODE)/i.test(key)) env[key] = value
  }
  return { ...env, PORT: String(port), npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' }
}

interface Ran {
  code: number
  stdout: string
  stderr: string
}

function sh(command: string, env: NodeJS.ProcessEnv, cwd = app): Promise<Ran> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', command], { cwd, env, timeout: COMMAND_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1
      resolve({ code, stdout, stderr: error?.killed ? `${stderr}\n(killed after ${COMMAND_TIMEOUT_MS} ms)` : stderr })
    })
  })
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

/** Stops a process started with `detached: true`, and every process it started (npx, tsx, node). */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name)
    } catch {
      // The group is gone already.
    }
  }
  signal('SIGTERM')
  const timer = setTimeout(() => signal('SIGKILL'), 3_000)
  await exited
  clearTimeout(timer)
}

/** The page's output as a pattern: any uuid for its uuid, any year for its year, our port for 3000. */
function outputPattern(shown: string, port: number): RegExp {
  const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g
  const escaped = shown
    .trim()
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(uuid, '[0-9a-f-]{36}')
    .replace(/\b20\d\d\b/g, '\\d{4}')
    .replace(/:3000\//g, `:${port}/`)
  return new RegExp(`^${escaped}$`)
}

/** Starts the page's server in the background and waits until it prints what the page shows. */
function startServer(command: string, env: NodeJS.ProcessEnv, shown: RegExp): Promise<string> {
  const child = spawn('bash', ['-c', command], { cwd: app, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  server = child
  let out = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} printed no "${shown.source}" within ${SERVER_START_TIMEOUT_MS} ms:\n${out}`)), SERVER_START_TIMEOUT_MS)
    const read = (chunk: Buffer) => {
      out += chunk.toString()
      if (shown.test(out.trim())) {
        clearTimeout(timer)
        resolve(out.trim())
      }
    }
    child.stdout.on('data', read)
    child.stderr.on('data', read)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${command} exited with ${code} before it was ready:\n${out}`))
    })
  })
}

/** tsc's messages (`file(line,col): error TSn: text`), as the docs' expected-error check reads them. */
function tscErrors(output: string): { file: string; diagnostic: BlockDiagnostic }[] {
  return [...output.matchAll(/^(.+?)\((\d+),(\d+)\): error TS(\d+): (.*)$/gm)].map((m) => ({
    file: m[1]!,
    diagnostic: {
      module: undefined as never, // checkExpectedErrors reads the positions and the message only
      line: Number(m[2]),
      blockLine: Number(m[2]) - 1,
      column: Number(m[3]) - 1,
      code: Number(m[4]),
      message: m[5]!,
    },
  }))
}

/**
 * Checks one run of the type checker: clean while no expect-error file of
 * the page is in the folder; otherwise failing, and only where those files
 * mark their errors.
 */
function checkTypeCheck(ran: Ran, label: string, files: Step[]): void {
  const pending = files.filter((f): f is Extract<Step, { kind: 'file' }> => f.kind === 'file' && f.expectError && existsSync(join(app, f.path)))
  const output = `${ran.stdout}${ran.stderr}`
  if (pending.length === 0) {
    expect(output.trim(), `${label} reported errors`).toBe('')
    expect(ran.code, label).toBe(0)
    return
  }
  expect(ran.code, `${label} must fail while ${pending.map((f) => f.path).join(', ')} is there`).not.toBe(0)
  const errors = tscErrors(output)
  const strays = errors.filter((e) => !pending.some((f) => e.file === f.path))
  expect(strays.map((e) => `${e.file}:${e.diagnostic.line}: ${e.diagnostic.message}`), `${label}: errors outside the expect-error files`).toEqual([])
  for (const file of pending) {
    const mine = errors.filter((e) => e.file === file.path).map((e) => e.diagnostic)
    expect(checkExpectedErrors(file.text, mine, (line) => `${PAGE}:${file.line + 1 + line} (${label})`)).toEqual([])
  }
}

describe(`${PAGE}, followed verbatim with npm and the packed packages`, () => {
  it('installs, type-checks, serves and calls as the page says', { timeout: 600_000 }, async () => {
    for (const pkg of PACKAGES) {
      expect(existsSync(join(repoRoot, `packages/${pkg}/dist/index.js`)), `packages/${pkg}/dist (run pnpm build)`).toBe(true)
    }
    const tarballs = join(work, 'tarballs')
    mkdirSync(tarballs)
    mkdirSync(app)
    const tarballOf = new Map<string, string>()
    for (const pkg of PACKAGES) {
      const before = new Set(readdirSync(tarballs))
      const packed = await sh(`pnpm pack --pack-destination ${JSON.stringify(tarballs)}`, process.env, join(repoRoot, 'packages', pkg))
      expect(packed.code, `pnpm pack in packages/${pkg}: ${packed.stderr}`).toBe(0)
      const made = readdirSync(tarballs).find((name) => !before.has(name))!
      tarballOf.set(`@wirecall/${pkg}`, join(tarballs, made))
    }

    const port = await freePort()
    const env = readerEnv(port)
    const steps = pageSteps(PAGE)
    const files = steps.filter((s) => s.kind === 'file')
    const serverFile = files.find((f) => f.kind === 'file' && f.text.includes('.listen('))
    const ran: string[] = []
    let clientOutput: string | undefined

    for (const step of steps) {
      if (step.kind === 'file') {
        mkdirSync(dirname(join(app, step.path)), { recursive: true })
        writeFileSync(join(app, step.path), step.text)
        continue
      }
      for (const [i, command] of step.commands.entries()) {
        const label = `${PAGE}:${step.line}: ${command}`
        const shown = i === step.commands.length - 1 ? step.output : undefined
        ran.push(command)
        if (serverFile?.kind === 'file' && command === `npx tsx ${serverFile.path}`) {
          expect(shown, `${label}: the page shows what the server prints`).toBeDefined()
          await startServer(command, env, outputPattern(shown!, port))
          continue
        }
        const line = /^npm (install|i)\b/.test(command)
          ? command.replace(/@wirecall\/[\w-]+/g, (name) => JSON.stringify(tarballOf.get(name) ?? name))
          : command
        const result = await sh(line, env)
        if (/^npx tsc\b/.test(command)) {
          checkTypeCheck(result, label, files)
          // The same folder under the TypeScript this repository pins (5.9): the page says both work.
          const pinned = await sh(`node ${JSON.stringify(join(repoRoot, 'node_modules/typescript/bin/tsc'))} ${command.replace(/^npx tsc\s*/, '')}`, env)
          checkTypeCheck(pinned, `${label} (TypeScript 5.9)`, files)
          continue
        }
        expect(result.code, `${label}\n${result.stdout}\n${result.stderr}`).toBe(0)
        if (shown !== undefined) {
          expect(result.stdout.trim(), label).toMatch(outputPattern(shown, port))
          clientOutput = result.stdout
        }
      }
    }

    // The page's shape, so that a page that loses a step fails here rather than passing with less.
    expect(ran).toEqual(expect.arrayContaining(['npm init -y', 'npm pkg set type=module', 'npx tsc --noEmit', 'npx tsx server.ts', 'npx tsx client.ts']))
    expect(clientOutput).toContain('BAD_REQUEST')
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { type?: string; devDependencies?: Record<string, string> }
    expect(manifest.type).toBe('module')
    const installed = JSON.parse(readFileSync(join(app, 'node_modules/typescript/package.json'), 'utf8')) as { version: string }
    console.log(`getting-started: ${ran.length} commands, ${files.length} files; TypeScript ${installed.version} from npm, and 5.9 beside it`)
  })
})
