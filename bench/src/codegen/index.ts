import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateProject } from '../typecheck/generate'
import { runTsc, type TscRun } from '../typecheck/tsc'
import { CODEGEN_ROOT, writeApiConsumer } from './api-consumer'
import { generateApi } from './generate-api'

/** TypeScript 7 (the repository's `typescript-7`, the native compiler): it prints the same labels as 5.9; its memory is the Go heap, so compare 7 with 7 only. */
const TSC7 = fileURLToPath(new URL('../../../node_modules/typescript-7/bin/tsc', import.meta.url))

/**
 * Issue 15's figures for `wirecall generate types`, on the type-check
 * benchmark's router (500 procedures with zod inputs, see ../typecheck/plan.ts):
 *
 * 1. the wall time of `wirecall generate types` on it (target: under 10 s);
 * 2. what its consumer pays in `tsc --noEmit --extendedDiagnostics` with
 *    the generated `api.d.ts`, against the same client.ts with
 *    `import type { AppRouter }` from the router's source (target: at most
 *    half the check time and half the memory).
 *
 * Both projects use the type-check benchmark's tsconfig (strict,
 * skipLibCheck); each is checked by bench's TypeScript 5.9 and by the
 * repository's TypeScript 7: one untimed warm-up each, then `--runs` runs
 * each, alternating, medians. A measurement, never a test.
 *
 * `pnpm build`, then `pnpm --filter @wirecall/bench codegen-types [--runs N]`.
 */

interface Figures {
  checkTimeS: number
  totalTimeS: number
  memoryKB: number
  types: number
  instantiations: number
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function medians(runs: readonly TscRun[]): Figures {
  const of = (pick: (run: TscRun) => number) => median(runs.map(pick))
  return { checkTimeS: of((r) => r.checkTimeS), totalTimeS: of((r) => r.totalTimeS), memoryKB: of((r) => r.memoryKB), types: of((r) => r.types), instantiations: of((r) => r.instantiations) }
}

function parseRuns(argv: readonly string[]): number {
  const at = argv.indexOf('--runs')
  const runs = at === -1 ? 5 : Number(argv[at + 1])
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer')
  return runs
}

async function main(runs: number): Promise<void> {
  const sourceDir = await generateProject('wirecall')
  const out = join(CODEGEN_ROOT, 'api.d.ts')

  // Generation: the first run is the cold one (file cache, compiler loaded from disk for the first time).
  const generations = []
  for (let run = 0; run < runs; run++) generations.push(await generateApi(`${join(sourceDir, 'router.ts')}#appRouter`, out, sourceDir))
  const text = generations.at(-1)!.text
  const apiDir = await writeApiConsumer(text)

  const dirs = { source: sourceDir, api: apiDir }
  const compilers = { 'TypeScript 5.9': (dir: string) => runTsc(dir), 'TypeScript 7': (dir: string) => runTsc(dir, [], TSC7) }
  const tables: string[] = []
  for (const [compiler, tsc] of Object.entries(compilers)) {
    const { source, api } = await compare(dirs, tsc, runs)
    tables.push(table(compiler, runs, source, api))
  }

  const wall = generations.map((g) => g.wallMs / 1000)
  const cpu = generations.map((g) => g.cpuMs / 1000)
  console.log(
    [
      `wirecall generate types, 500 procedures: ${text.split('\n').length} lines, ${Math.round(Buffer.byteLength(text) / 1024)} KB`,
      `wall time, ${runs} runs: median ${median(wall).toFixed(2)} s, first (cold) ${wall[0]!.toFixed(2)} s, all: ${wall.map((s) => s.toFixed(2)).join(', ')} s (target < 10 s: ${met(median(wall) < 10)})`,
      `CPU time (user + system): median ${median(cpu).toFixed(2)} s, all: ${cpu.map((s) => s.toFixed(2)).join(', ')} s`,
      ...tables,
    ].join('\n'),
  )
}

const met = (ok: boolean) => (ok ? 'met' : 'NOT met')

/** Medians of `runs` runs of each project, after one untimed warm-up each; the order alternates by run. */
async function compare(dirs: { source: string; api: string }, tsc: (dir: string) => Promise<TscRun>, runs: number): Promise<{ source: Figures; api: Figures }> {
  const names = ['source', 'api'] as const
  for (const name of names) await tsc(dirs[name]) // warm-up, and zero errors or a loud failure
  const samples: Record<(typeof names)[number], TscRun[]> = { source: [], api: [] }
  for (let run = 0; run < runs; run++) {
    for (const name of run % 2 === 0 ? names : [...names].reverse()) samples[name].push(await tsc(dirs[name]))
  }
  return { source: medians(samples.source), api: medians(samples.api) }
}

/** One compiler's table, as docs/benchmarks.md shows it, with the targets under it. */
function table(compiler: string, runs: number, source: Figures, api: Figures): string {
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`
  const row = (label: string, f: Figures) =>
    `| ${label} | ${f.checkTimeS.toFixed(2)} s | ${f.totalTimeS.toFixed(2)} s | ${Math.round(f.memoryKB / 1024)} MB | ${f.types} | ${f.instantiations} |`
  return [
    '',
    `a client using every procedure; tsc --noEmit --extendedDiagnostics (${compiler}), median of ${runs} runs each`,
    '',
    '| the client imports | check time | total time | memory | types | instantiations |',
    '|---|---:|---:|---:|---:|---:|',
    row('`import type { AppRouter }` from the source', source),
    row('`import type { AppApi }` from api.d.ts', api),
    `| api.d.ts / source | ${ratio(api.checkTimeS, source.checkTimeS)} | ${ratio(api.totalTimeS, source.totalTimeS)} | ${ratio(api.memoryKB, source.memoryKB)} | ${ratio(api.types, source.types)} | ${ratio(api.instantiations, source.instantiations)} |`,
    '',
    `target ≤ 0.5× check time: ${met(api.checkTimeS <= 0.5 * source.checkTimeS)}; total time: ${met(api.totalTimeS <= 0.5 * source.totalTimeS)}; memory: ${met(api.memoryKB <= 0.5 * source.memoryKB)}`,
  ].join('\n')
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(parseRuns(process.argv)).catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
