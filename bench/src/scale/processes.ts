/**
 * The processes of a scale case, started the way run.ts starts the main
 * cases' (tsx, --expose-gc, the bench's tsconfig), so that every case
 * measures the built packages in fresh processes.
 */
import { Child } from '../child'
import type { ImplName, ServeOptions } from '../contract'
import type { FromServer, MemorySample, ToServer } from '../ipc'
import type { ProcessStatus } from '../proc-status'
import { childEnv, SERVER_PROCESS, TSX_LOADER } from '../run'

/** How long a child may take to answer one request (start, measure, close). */
export const STEP_TIMEOUT_MS = 60_000

const usUsed = (cpu: NodeJS.CpuUsage) => cpu.user + cpu.system

/** Forks `file` with `args`: a child of a scale case speaking `Out` and listening to `In`. */
export function forkChild<In extends object, Out extends { type: string }>(label: string, file: string, args: string[], extraExecArgv: string[] = []): Child<In, Out> {
  return new Child<In, Out>(label, file, args, ['--import', TSX_LOADER, '--expose-gc', ...extraExecArgv], childEnv())
}

/** A running server process of one implementation. */
export interface ServerProcess {
  readonly port: number
  readonly child: Child<ToServer, FromServer>
  /** CPU µs (user + system) the process has used since it started. */
  cpuUs(): Promise<number>
  /** Its `process.memoryUsage()` after gc has settled. */
  memory(): Promise<MemorySample>
  /** Its pid, open-file limit, RSS now and peak RSS (VmHWM), without gc. */
  status(): Promise<ProcessStatus>
  /** Closes the server (the implementation's own graceful close) and waits for the process to exit. */
  close(): Promise<void>
  /** SIGKILL. */
  kill(): void
}

/** Starts `impl`'s server in a fresh process (server-process.ts) and waits until it listens. */
export async function startServer(impl: ImplName, options: ServeOptions = {}, label = `${impl} server`): Promise<ServerProcess> {
  const child = forkChild<ToServer, FromServer>(label, SERVER_PROCESS, [impl, JSON.stringify(options)])
  try {
    const { port } = await child.next('ready', STEP_TIMEOUT_MS)
    return {
      port,
      child,
      cpuUs: async () => usUsed((await child.request({ type: 'cpu' }, 'cpu', STEP_TIMEOUT_MS)).usage),
      memory: async () => (await child.request({ type: 'memory' }, 'memory', STEP_TIMEOUT_MS)).usage,
      status: async () => (await child.request({ type: 'status' }, 'status', STEP_TIMEOUT_MS)).status,
      async close() {
        child.send({ type: 'close' })
        await child.exit(STEP_TIMEOUT_MS)
      },
      kill: () => child.kill(),
    }
  } catch (error) {
    child.kill()
    throw error
  }
}
