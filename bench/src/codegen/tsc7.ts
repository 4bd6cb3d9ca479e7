import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { TscRun } from '../typecheck/tsc'

/**
 * `tsc -p <dir> --extendedDiagnostics` with TypeScript 7 (the repository's
 * `typescript-7`, the native compiler), read into the same figures as
 * ../typecheck/tsc.ts reads from 5.9. 7 prints the same labels; its memory
 * is the Go heap, so compare 7 with 7 only.
 */

const TSC7 = fileURLToPath(new URL('../../../node_modules/typescript-7/bin/tsc', import.meta.url))

function figure(report: string, label: string): number {
  const match = report.match(new RegExp(`^${label}:\\s+([\\d.]+)`, 'm'))
  if (!match) throw new Error(`tsc 7 printed no "${label}" line:\n${report.slice(0, 2_000)}`)
  return Number(match[1])
}

/** One run; throws with tsc's first errors when the project does not type-check. */
export async function runTsc7(dir: string): Promise<TscRun> {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [TSC7, '-p', dir, '--extendedDiagnostics'], { maxBuffer: 64 * 1024 * 1024, timeout: 300_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`tsc 7 failed on ${dir} (${error.code ?? error.signal}):\n${stdout.split('\n').filter((l) => /error TS\d+/.test(l)).slice(0, 10).join('\n') || stderr}`))
      else resolve(stdout)
    })
  })
  return {
    checkTimeS: figure(stdout, 'Check time'),
    totalTimeS: figure(stdout, 'Total time'),
    memoryKB: figure(stdout, 'Memory used'),
    types: figure(stdout, 'Types'),
    instantiations: figure(stdout, 'Instantiations'),
  }
}
