import { main, type CliIo } from '@wirecall/codegen'

/**
 * The `wirecall` commands run in-process through `main`, with what they
 * write kept: for the tests where a child process adds nothing (usage
 * errors, generated files, exit codes of the generating commands).
 */

/** A `CliIo` that keeps what a command writes. */
export function captureIo(cwd: string): CliIo & { out: () => string; err: () => string } {
  let out = ''
  let err = ''
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    cwd,
    env: {},
    signal: new AbortController().signal,
    out: () => out,
    err: () => err,
  }
}

/** How a command run by {@link runCli} ended. */
export interface CliRun {
  readonly status: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `wirecall ...argv` in `cwd`. */
export async function runCli(argv: readonly string[], cwd: string = process.cwd()): Promise<CliRun> {
  const io = captureIo(cwd)
  const status = await main(argv, io)
  return { status, stdout: io.out(), stderr: io.err() }
}
