/**
 * What the numbers were measured on: the machine, Node, and the version of
 * every package compared.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, realpathSync } from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url))

/** Packages whose versions the output names, as seen from bench/node_modules. */
const PACKAGES = ['@wirecall/core', '@wirecall/server', '@wirecall/client', '@wirecall/otel', '@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/sdk-metrics', 'ws', '@trpc/server', '@trpc/client', 'socket.io', 'socket.io-client', 'superjson', 'zod', 'esbuild', 'typescript', 'tsx']

export interface MachineInfo {
  cpu: string
  cores: number
  memoryGiB: number
  node: string
  os: string
  /** The commit the wirecall packages were built from, and whether packages/ had uncommitted changes. */
  wirecallCommit: string
  versions: Record<string, string>
}

function versionOf(directory: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { version?: string }).version
  } catch {
    return undefined
  }
}

/** Read-only git queries; "unknown" outside a checkout. */
function commit(): string {
  try {
    const run = (...args: string[]) => execFileSync('git', args, { cwd: BENCH_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const sha = run('rev-parse', '--short', 'HEAD')
    const dirty = run('status', '--porcelain', '--', '../packages') !== ''
    return dirty ? `${sha} + uncommitted changes in packages/` : sha
  } catch {
    return 'unknown'
  }
}

export function machineInfo(): MachineInfo {
  const versions: Record<string, string> = {}
  for (const name of PACKAGES) {
    versions[name] = versionOf(join(BENCH_DIR, 'node_modules', name)) ?? 'missing'
    if (name === 'socket.io' && versions[name] !== 'missing') {
      // socket.io's transport layer, which does most of its work.
      const engine = versionOf(join(dirname(realpathSync(join(BENCH_DIR, 'node_modules', name))), 'engine.io'))
      if (engine !== undefined) versions['engine.io'] = engine
    }
  }
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    wirecallCommit: commit(),
    versions,
  }
}
