import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { watchChild, type ChildExit } from '../../helpers/watched-child'

/** Per-test bound for files that start children: a loaded 2-core CI box starts a Node child in seconds, not milliseconds. */
export const CHILD_TEST_TIMEOUT_MS = 45_000

/**
 * The built `wirecall` bin (packages/codegen/dist/cli.js) in a child
 * process, with its stdout and stderr kept apart: what the exit codes,
 * the stream separation and the signals of `call` and `subscribe` are
 * tested on. Every wait is bounded, and a child still running after a test
 * is killed (SIGKILL, by its pid) in afterEach (tests/helpers/watched-child.ts).
 */

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const bin = fileURLToPath(new URL('../../../packages/codegen/dist/cli.js', import.meta.url))

export type Exit = ChildExit

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

/** Fails, saying what to run, when the bin is not built. */
export function requireBin(): void {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run 'pnpm --filter @wirecall/codegen build' (pnpm test builds every package first)`)
}

/** Starts `node dist/cli.js ...args` in the repository's root, not on a terminal (no colours: not a TTY, and NO_COLOR). */
export function runBin(args: readonly string[]): RunningBin {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value
  // vitest's NODE_OPTIONS must not reach the child.
  const child = watchChild(process.execPath, [bin, ...args], { cwd: repoRoot, env: { ...env, NODE_OPTIONS: '', NO_COLOR: '1' } })
  const streams = { stdout: child.stdout, stderr: child.stderr }
  return {
    pid: child.process.pid!,
    stdout: child.stdout,
    stderr: child.stderr,
    waitFor(stream, pattern, timeoutMs = 15_000) {
      return child
        .waitFor(
          () => {
            if (pattern.test(streams[stream]())) return true
            if (child.exit()) throw new Error(`the bin exited while the test waited for ${pattern} on ${stream}\n${child.output()}`)
            return undefined
          },
          `${pattern} on ${stream}`,
          timeoutMs,
        )
        .then(() => undefined)
    },
    exited(timeoutMs = 15_000) {
      return child.exited(timeoutMs)
    },
    signal(name) {
      child.process.kill(name)
    },
    hasExited: () => child.exit() !== undefined,
    closeStdout() {
      child.process.stdout.destroy()
    },
    output: child.output,
  }
}

/** Runs the bin to its exit. */
export async function runToExit(args: readonly string[], timeoutMs = 15_000): Promise<{ exit: Exit; stdout: string; stderr: string; output: string }> {
  const child = runBin(args)
  const exit = await child.exited(timeoutMs)
  return { exit, stdout: child.stdout(), stderr: child.stderr(), output: child.output() }
}
