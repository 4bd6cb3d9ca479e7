import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * Where the runtimes of scripts/ensure-runtimes.sh are: it installs them in
 * .runtimes/ and lists them in .runtimes/runtimes.json. Nothing here is
 * skipped when one is missing: the test fails and names the script.
 */

export type RuntimeName = 'node22' | 'node24' | 'node26' | 'deno' | 'bun'

export interface Runtime {
  name: RuntimeName
  /** The exact version the script pinned, e.g. `24.22.3`. */
  version: string
  /** The binary's absolute path. */
  path: string
}

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const listing = fileURLToPath(new URL('../../.runtimes/runtimes.json', import.meta.url))
const INSTALL = "run 'bash scripts/ensure-runtimes.sh' first (the test command does, before vitest)"

/** The installed runtime `name`, or an error that says how to install it. */
export function runtime(name: RuntimeName): Runtime {
  if (!existsSync(listing)) throw new Error(`${name} is not installed: no .runtimes/runtimes.json; ${INSTALL}`)
  const all = JSON.parse(readFileSync(listing, 'utf8')) as Partial<Record<RuntimeName, { version: string; path: string }>>
  const found = all[name]
  if (found === undefined) throw new Error(`${name} is not in .runtimes/runtimes.json; ${INSTALL}`)
  if (!existsSync(found.path)) throw new Error(`${name} ${found.version} is listed, but ${found.path} is missing; ${INSTALL}`)
  return { name, ...found }
}

/** A file of tests/runtimes/fixtures. */
export const fixture = (file: string): string => fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url))

/**
 * The environment of every child: the test's, with nothing that would make
 * a runtime reach the network or write outside the repository.
 */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value
  return {
    ...env,
    NODE_OPTIONS: '', // vitest's own must not reach a child Node
    NO_COLOR: '1',
    DENO_NO_UPDATE_CHECK: '1', // Deno checks for a newer release over the network otherwise
    DENO_DIR: fileURLToPath(new URL('../../.runtimes/deno/cache', import.meta.url)), // Deno's transpile cache, git-ignored
    DO_NOT_TRACK: '1', // Bun sends no crash report or usage data
    ...extra,
  }
}

/** `deno run` with the permissions the fixtures need: the loopback only, and the two variables `ws` reads. */
export const denoRun = ['run', '--allow-net=127.0.0.1', '--allow-env=RPC_URL,WS_NO_BUFFER_UTIL,WS_NO_UTF_8_VALIDATE']

/** Fails, saying what to run, when `pkg` has no build: the fixtures import packages/<pkg>/dist. */
export function requireBuild(pkg: 'client' | 'server'): void {
  const entry = fileURLToPath(new URL(`../../packages/${pkg}/dist/index.js`, import.meta.url))
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run 'pnpm build' first (the test command does, before vitest)`)
}
