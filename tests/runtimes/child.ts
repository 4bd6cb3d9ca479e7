import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { afterEach } from 'vitest'
import { childEnv, repoRoot } from './runtimes'

/**
 * A fixture script in a child process that reports on stdout, one JSON
 * object a line, and may be told things on stdin. Every wait is bounded,
 * and every child still running after a test is killed (SIGKILL, by its
 * pid) in afterEach: a file that uses this module registers the hook.
 */

export type Message = Record<string, unknown>

export interface Child {
  /** Every JSON line received so far. */
  readonly messages: Message[]
  /** Resolves with the first message (past or future) matching `predicate`; rejects after `timeoutMs`, or when the child exits first. */
  next(predicate: (message: Message) => boolean, what: string, timeoutMs?: number): Promise<Message>
  /** Writes `line` to the child's stdin. */
  send(line: string): void
  /** Resolves with the exit code (or signal) once the child exits by itself; kills it and rejects after `timeoutMs`. */
  exited(timeoutMs?: number): Promise<{ code: number | null; signal: string | null }>
  /** What the child wrote, for failure messages. */
  output(): string
}

const running = new Set<ChildProcessWithoutNullStreams>()

afterEach(() => {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
})

/** Starts `command args` in the repository's root with `env` on top of {@link childEnv}. */
export function startChild(command: string, args: string[], env: Record<string, string> = {}): Child {
  const child = spawn(command, args, { cwd: repoRoot, env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] })
  running.add(child)
  const messages: Message[] = []
  const waiters = new Set<() => void>()
  let stdout = ''
  let stderr = ''
  let pending = ''
  let exit: { code: number | null; signal: string | null } | undefined
  let spawnError: Error | undefined
  const wake = () => {
    for (const waiter of [...waiters]) waiter()
  }
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    pending += chunk
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      if (!line.startsWith('{')) continue
      try {
        messages.push(JSON.parse(line) as Message)
      } catch {
        // Not one of the fixture's lines: kept in the output only.
      }
    }
    wake()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
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
  const output = () => `exit: ${exit ? `${exit.code ?? exit.signal}` : 'still running'}\nstdout:\n${stdout}\nstderr:\n${stderr}`

  /** Waits until `check` returns a value; rejects after `timeoutMs` naming `what`. */
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
    messages,
    next(predicate, what, timeoutMs = 15_000) {
      return waitFor(
        () => {
          const found = messages.find(predicate)
          if (found !== undefined) return found
          const failed = messages.find((m) => m.step === 'error')
          if (failed) throw new Error(`the script failed while the test waited for ${what}: ${String(failed.message)}\n${output()}`)
          if (exit) throw new Error(`the script exited while the test waited for ${what}\n${output()}`)
          return undefined
        },
        what,
        timeoutMs,
      )
    },
    send(line) {
      child.stdin.write(`${line}\n`)
    },
    exited(timeoutMs = 5_000) {
      return waitFor(() => exit, `${command} to exit by itself`, timeoutMs).catch((error: unknown) => {
        child.kill('SIGKILL')
        throw error
      })
    },
    output,
  }
}
