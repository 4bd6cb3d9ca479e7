import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterEach } from 'vitest'

/** Per-test bound for files that start children: a loaded 2-core CI box starts a Node child in seconds, not milliseconds. */
export const CHILD_TEST_TIMEOUT_MS = 45_000

/**
 * The built `wirecall` bin (packages/codegen/dist/cli.js) in a child
 * process, with its stdout and stderr kept apart: what the exit codes,
 * the stream separation and the signals of `call` and `subscribe` are
 * tested on. Every wait is bounded, and a child still running after a test
 * is killed (SIGKILL, by its pid) in afterEach.
 */

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const bin = fileURLToPath(new URL('../../../packages/codegen/dist/cli.js', import.meta.url))

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface RunningBin {
  readonly pid: number
  stdout(): string
  stderr(): string
  /** Resolves once `stream` matches `pattern`; rejects after `timeoutMs` or when the child exits first. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs?: number): Promise<void>
  /** Resolves with the exit once the child exits by itself; kills it and rejects after `timeoutMs`. */
  exited(timeoutMs?: number): Promise<Exit>
  signal(name: NodeJS.Signals): void
  /** Whether the child has exited (as far as this process has heard). */
  hasExited(): boolean
  /** Closes the reading end of the child's stdout, as `| head -1` does once it has its line. */
  closeStdout(): void
  /** Both streams and the exit, for failure messages. */
  output(): string
}

const running = new Set<ChildProcessWithoutNullStreams>()

afterEach(() => {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
})

/** Fails, saying what to run, when the bin is not built. */
export function requireBin(): void {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run 'pnpm --filter @wirecall/codegen build' (pnpm test builds every package first)`)
}

/** Starts `node dist/cli.js ...args` in the repository's root, not on a terminal (no colours: not a TTY, and NO_COLOR). */
export function runBin(args: readonly string[]): RunningBin {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value
  // vitest's NODE_OPTIONS must not reach the child.
  const child = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, env: { ...env, NODE_OPTIONS: '', NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] })
  running.add(child)
  const text = { stdout: '', stderr: '' }
  let exit: Exit | undefined
  let spawnError: Error | undefined
  const waiters = new Set<() => void>()
  const wake = () => {
    for (const waiter of [...waiters]) waiter()
  }
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    text.stdout += chunk
    wake()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    text.stderr += chunk
    wake()
  })
  child.once('error', (error) => {
    spawnError = error
    wake()
  })
  child.once('exit', (code, signal) => {
    running.delete(child)
    exit = { code, signal }
    wake()
  })
  const output = () => `exit: ${exit ? `${exit.code ?? exit.signal}` : 'still running'}\nstdout:\n${text.stdout}\nstderr:\n${text.stderr}`

  const waitFor = <T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const finish = (outcome: () => void) => {
        clearTimeout(timer)
        waiters.delete(poll)
        outcome()
      }
      const poll = () => {
        try {
          const value = check()
          if (value !== undefined) return finish(() => resolve(value))
        } catch (error) {
          return finish(() => reject(error as Error))
        }
        if (spawnError) return finish(() => reject(new Error(`the bin did not start: ${spawnError?.message}`)))
      }
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${output()}`))), timeoutMs)
      waiters.add(poll)
      poll()
    })

  return {
    pid: child.pid!,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    waitFor(stream, pattern, timeoutMs = 15_000) {
      return waitFor(
        () => {
          if (pattern.test(text[stream])) return true
          if (exit) throw new Error(`the bin exited while the test waited for ${pattern} on ${stream}\n${output()}`)
          return undefined
        },
        `${pattern} on ${stream}`,
        timeoutMs,
      ).then(() => undefined)
    },
    exited(timeoutMs = 15_000) {
      return waitFor(() => exit, 'the bin to exit by itself', timeoutMs).catch((error: unknown) => {
        child.kill('SIGKILL')
        throw error
      })
    },
    signal(name) {
      child.kill(name)
    },
    hasExited: () => exit !== undefined,
    closeStdout() {
      child.stdout.destroy()
    },
    output,
  }
}

/** Runs the bin to its exit. */
export async function runToExit(args: readonly string[], timeoutMs = 15_000): Promise<{ exit: Exit; stdout: string; stderr: string; output: string }> {
  const child = runBin(args)
  const exit = await child.exited(timeoutMs)
  return { exit, stdout: child.stdout(), stderr: child.stderr(), output: child.output() }
}
