import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * Runs the TypeScript compiler from bench's node_modules (the pinned
 * version) on a project and reads its `--extendedDiagnostics` report.
 */

const TSC = fileURLToPath(new URL('../../node_modules/typescript/lib/tsc.js', import.meta.url))

/** What one `tsc -p <dir> --extendedDiagnostics` run reports. */
export interface TscRun {
  checkTimeS: number
  totalTimeS: number
  memoryKB: number
  types: number
  instantiations: number
}

function figure(report: string, label: string): number {
  const match = report.match(new RegExp(`^${label}:\\s+([\\d.]+)`, 'm'))
  if (!match) throw new Error(`tsc printed no "${label}" line:\n${report.slice(0, 2_000)}`)
  return Number(match[1])
}

/**
 * Type-checks the project in `dir` (with `compiler`, a tsc script run by
 * Node: the pinned 5.9 by default). Throws, with the first errors, when
 * tsc reports any: the generated code must be correct for the time to mean
 * anything.
 */
export async function runTsc(dir: string, extraArgs: string[] = [], compiler: string = TSC): Promise<TscRun> {
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    execFile(
      process.execPath,
      [compiler, '-p', dir, '--extendedDiagnostics', ...extraArgs],
      { maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
      (error, stdout, stderr) => {
        // tsc exits 1 or 2 on type errors: that is reported below with the errors themselves.
        if (error && typeof error.code !== 'number') reject(error)
        else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr })
      },
    )
  })
  if (code !== 0 || /error TS\d+/.test(stdout)) {
    const errors = stdout.split('\n').filter((line) => /error TS\d+/.test(line))
    throw new Error(`tsc found errors in ${dir} (exit ${code}); the first ones:\n${(errors.length > 0 ? errors.slice(0, 10) : [stdout, stderr]).join('\n')}`)
  }
  return {
    checkTimeS: figure(stdout, 'Check time'),
    totalTimeS: figure(stdout, 'Total time'),
    memoryKB: figure(stdout, 'Memory used'),
    types: figure(stdout, 'Types'),
    instantiations: figure(stdout, 'Instantiations'),
  }
}
