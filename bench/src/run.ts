/**
 * One run: a fresh server process and a fresh client process for one case
 * and one implementation, measured as the spec says: the server's CPU at
 * 'go' and at 'done', its memory around the measured part for the memory
 * case, the client's own numbers from its 'done'.
 */
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { BenchCase, RunSample } from './cases/index'
import { Child } from './child'
import type { ImplName } from './contract'
import type { FromClient, FromServer, ToClient, ToServer } from './ipc'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/** The server child's entry: `server-process.ts <impl> [ServeOptions as JSON]`. */
export const SERVER_PROCESS = here('./server-process.ts')

/** tsx's loader as a file URL, so children run TypeScript wherever the orchestrator was started from. */
export const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

/**
 * The bench's tsconfig, for tsx in the children: the root one maps
 * `@wirecall/*` to the package sources, and tsx would follow it. The bench
 * measures the built packages, as an app gets them. Read at each run: with
 * `--baseline`, the orchestrator adds `WIRECALL_BASELINE_DIR` first.
 */
export const childEnv = () => ({ ...process.env, TSX_TSCONFIG_PATH: here('../tsconfig.json') })

/** How long any one step of a run may take before the run fails. */
const STEP_TIMEOUT_MS = 60_000

export interface RunOptions {
  quick: boolean
  /** Where to write CPU profiles of the wirecall children; off when undefined. */
  profileDir: string | undefined
  /** Names the profiles. */
  rep: number
}

const usUsed = (cpu: NodeJS.CpuUsage) => cpu.user + cpu.system

/** Runs `benchCase` once against `impl` and returns its sample; throws (naming both) on any failure. */
export async function runOnce(benchCase: BenchCase, impl: ImplName, options: RunOptions): Promise<RunSample> {
  const execArgv = (role: string) => {
    const args = ['--import', TSX_LOADER, '--expose-gc']
    if (options.profileDir !== undefined && impl.startsWith('wirecall')) {
      // A directory per process: tsx's loader thread writes a profile of its own, which a fixed
      // --cpu-prof-name would overwrite the main thread's with. The main thread's file name has thread id 0.
      args.push('--cpu-prof', '--cpu-prof-dir', `${options.profileDir}/${impl}-${benchCase.name}-${role}-rep${options.rep + 1}`)
    }
    return args
  }
  const label = `${benchCase.name}/${impl}`
  // Both start at once (loading a library takes a few hundred ms); the client connects once it has the port.
  const server = new Child<ToServer, FromServer>(`${label} server`, SERVER_PROCESS, [impl], execArgv('server'), childEnv())
  const client = new Child<ToClient, FromClient>(`${label} client`, here('./client-process.ts'), [impl, benchCase.name, options.quick ? 'quick' : 'full'], execArgv('client'), childEnv())
  // A server that dies mid-run fails the run at once, not when a client wait times out.
  const whileServerLives = <T>(wait: Promise<T>) => Promise.race([wait, server.failed])
  try {
    const { port } = await Promise.race([server.next('ready', STEP_TIMEOUT_MS), client.failed])
    await client.next('listening', STEP_TIMEOUT_MS)
    client.send({ type: 'start', port })
    await whileServerLives(client.next('ready', STEP_TIMEOUT_MS))

    const memoryBefore = benchCase.serverMemory ? (await server.request({ type: 'memory' }, 'memory', STEP_TIMEOUT_MS)).usage : undefined
    const cpuBefore = (await server.request({ type: 'cpu' }, 'cpu', STEP_TIMEOUT_MS)).usage
    client.send({ type: 'go' })
    const done = await whileServerLives(client.next('done', STEP_TIMEOUT_MS))
    const cpuAfter = (await server.request({ type: 'cpu' }, 'cpu', STEP_TIMEOUT_MS)).usage
    const memoryAfter = benchCase.serverMemory ? (await server.request({ type: 'memory' }, 'memory', STEP_TIMEOUT_MS)).usage : undefined

    // The client closes its connections before the server goes, so that no library sees a server-side close.
    await whileServerLives(client.request({ type: 'close' }, 'closed', STEP_TIMEOUT_MS))
    await client.exit(STEP_TIMEOUT_MS)
    server.send({ type: 'close' })
    await server.exit(STEP_TIMEOUT_MS)

    const extra = { ...done.extra }
    if (memoryBefore !== undefined && memoryAfter !== undefined) {
      Object.assign(extra, {
        rssBefore: memoryBefore.rss,
        rssAfter: memoryAfter.rss,
        heapUsedBefore: memoryBefore.heapUsed,
        heapUsedAfter: memoryAfter.heapUsed,
      })
    }
    return {
      ops: done.ops,
      elapsedNs: done.elapsedNs,
      clientCpuUs: usUsed(done.cpu),
      serverCpuUs: usUsed(cpuAfter) - usUsed(cpuBefore),
      extra,
    }
  } finally {
    client.kill()
    server.kill()
  }
}
