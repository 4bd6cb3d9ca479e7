import { spawn, type ChildProcessWithoutNullStreams, type SpawnOptionsWithoutStdio } from 'node:child_process'
import { afterEach } from 'vitest'

/**
 * A child process whose output and exit a test waits on: stdout and stderr
 * kept apart, every wait bounded, and every child still running after a
 * test killed (SIGKILL, by its pid) in afterEach (a file that uses this
 * module registers the hook). What the runtime tests' JSON-line fixtures
 * (tests/runtimes/child.ts) and the `wirecall` bin's tests
 * (tests/codegen/cli/bin.ts) are built on.
 */

export interface ChildExit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface WatchedChild {
  readonly process: ChildProcessWithoutNullStreams
  stdout(): string
  stderr(): string
  /** The exit, once this process has heard of it. */
  exit(): ChildExit | undefined
  /**
   * Resolves with what `check` returns once it returns something, checked
   * now and after every chunk of output and the exit; rejects with what it
   * throws, when the child could not start, or after `timeoutMs` naming
   * `what` with {@link output}.
   */
  waitFor<T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T>
  /** Resolves with the exit once the child exits by itself; kills it and rejects after `timeoutMs`. */
  exited(timeoutMs: number): Promise<ChildExit>
  /** Both streams and the exit, for failure messages. */
  output(): string
}

const running = new Set<ChildProcessWithoutNullStreams>()

afterEach(() => {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
})

/** Starts `command args` with stdin, stdout and stderr piped. `onStdout` sees each chunk before the waits are woken. */
export function watchChild(command: string, args: readonly string[], options: SpawnOptionsWithoutStdio, onStdout?: (chunk: string) => void): WatchedChild {
  const child = spawn(command, [...args], { ...options, stdio: ['pipe', 'pipe', 'pipe'] })
  running.add(child)
  const text = { stdout: '', stderr: '' }
  let exit: ChildExit | undefined
  let spawnError: Error | undefined
  const waiters = new Set<() => void>()
  const wake = () => {
    for (const waiter of [...waiters]) waiter()
  }
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    text.stdout += chunk
    onStdout?.(chunk)
    wake()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    text.stderr += chunk
    wake()
  })
  child.stdin.on('error', () => {}) // a child that exited early: its failure is reported by the waits
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
        if (spawnError) return finish(() => reject(new Error(`${command} did not start: ${spawnError?.message}`)))
      }
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${output()}`))), timeoutMs)
      waiters.add(poll)
      poll()
    })

  return {
    process: child,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    exit: () => exit,
    waitFor,
    exited(timeoutMs) {
      return waitFor(() => exit, `${command} to exit by itself`, timeoutMs).catch((error: unknown) => {
        child.kill('SIGKILL')
        throw error
      })
    },
    output,
  }
}
