import { watchChild } from '../helpers/watched-child'
import { childEnv, repoRoot } from './runtimes'

/**
 * A fixture script in a child process that reports on stdout, one JSON
 * object a line, and may be told things on stdin. Every wait is bounded,
 * and every child still running after a test is killed (SIGKILL, by its
 * pid) in afterEach (tests/helpers/watched-child.ts).
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

/** Starts `command args` in the repository's root with `env` on top of {@link childEnv}. */
export function startChild(command: string, args: string[], env: Record<string, string> = {}): Child {
  const messages: Message[] = []
  let pending = ''
  const child = watchChild(command, args, { cwd: repoRoot, env: childEnv(env) }, (chunk) => {
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
  })

  return {
    messages,
    next(predicate, what, timeoutMs = 15_000) {
      return child.waitFor(
        () => {
          const found = messages.find(predicate)
          if (found !== undefined) return found
          const failed = messages.find((m) => m.step === 'error')
          if (failed) throw new Error(`the script failed while the test waited for ${what}: ${String(failed.message)}\n${child.output()}`)
          if (child.exit()) throw new Error(`the script exited while the test waited for ${what}\n${child.output()}`)
          return undefined
        },
        what,
        timeoutMs,
      )
    },
    send(line) {
      child.process.stdin.write(`${line}\n`)
    },
    exited(timeoutMs = 5_000) {
      return child.exited(timeoutMs)
    },
    output: child.output,
  }
}
