import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * Runs the built `wirecall generate types` as a user's script would (a
 * child process: node, the bin, its own TypeScript program) and times it
 * from spawn to exit, so the figure includes loading the CLI and the
 * compiler, which is what a CI step waits for. The child's CPU time (user
 * + system, read with bash's `times`) comes with it: on a shared machine
 * the wall time grows with the load, the CPU time much less.
 */

/** The bin of the built @wirecall/codegen (`pnpm build` first). */
export const CODEGEN_CLI = fileURLToPath(new URL('../../../packages/codegen/dist/cli.js', import.meta.url))

/** One timed run: wall-clock and CPU milliseconds, and the file it wrote. */
export interface GenerateRun {
  wallMs: number
  cpuMs: number
  text: string
}

/** `times` prints the shell's user and system time, then its children's: `0m4.120s 0m0.310s`. */
function childCpuMs(stderr: string): number {
  const lines = stderr.trim().split('\n')
  const match = lines.at(-1)?.match(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/)
  if (!match) throw new Error(`no CPU times in the output of bash's times:\n${stderr.slice(-500)}`)
  const [, um, us, sm, ss] = match.map(Number) as [number, number, number, number, number]
  return (um * 60 + us + sm * 60 + ss) * 1000
}

/** `wirecall generate types --router <routerSpec> --out <out>`, timed. Throws with the CLI's output when it fails. */
export async function generateApi(routerSpec: string, out: string, cwd: string): Promise<GenerateRun> {
  if (!existsSync(CODEGEN_CLI)) throw new Error(`${CODEGEN_CLI} is missing: run pnpm build`)
  const started = performance.now()
  const stderr = await new Promise<string>((resolve, reject) => {
    execFile(
      'bash',
      ['-c', '"$@"; status=$?; times >&2; exit $status', 'bash', process.execPath, CODEGEN_CLI, 'generate', 'types', '--router', routerSpec, '--out', out],
      { cwd, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`wirecall generate types failed (${error.code ?? error.signal}):\n${stdout}\n${stderr}`))
        else resolve(stderr)
      },
    )
  })
  return { wallMs: performance.now() - started, cpuMs: childCpuMs(stderr), text: readFileSync(out, 'utf8') }
}
