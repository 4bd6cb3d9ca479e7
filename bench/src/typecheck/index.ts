import { fileURLToPath } from 'node:url'
import { generateProject } from './generate'
import type { TypecheckLib } from './sources'
import { runTsc, type TscRun } from './tsc'

/**
 * What a large typed API costs the compiler: the same 500-procedure router
 * and a client using every procedure (see plan.ts), generated for wirecall
 * and for tRPC v11, each type-checked by `tsc --noEmit
 * --extendedDiagnostics` (strict, skipLibCheck, against the published
 * `.d.ts`). A third project, zod-only, has the same schemas and resolvers
 * and no RPC library: the floor. What matters is each library's time above
 * that floor. Runs rotate between the three, so machine drift hits all.
 *
 * Standalone: `npx tsx src/typecheck/index.ts [--runs N]`.
 */

/**
 * Medians of one library's runs: seconds as tsc reports them, memory in KB;
 * and the counts of types and instantiations, which are the same on every
 * run (they do not depend on the machine's load, unlike the times).
 */
export interface TypecheckResult {
  checkTimeS: number
  totalTimeS: number
  memoryKB: number
  types: number
  instantiations: number
}

const LIBS: readonly TypecheckLib[] = ['wirecall', 'trpc', 'zodOnly']

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Every run of each library, after one untimed warm-up run each (which also proves the project has no type error). */
export async function typecheckRuns(runs = 3): Promise<Record<TypecheckLib, TscRun[]>> {
  const dirs = { wirecall: await generateProject('wirecall'), trpc: await generateProject('trpc'), zodOnly: await generateProject('zodOnly') }
  for (const lib of LIBS) await runTsc(dirs[lib]) // warm-up: file cache, and zero errors or a loud failure
  const samples: Record<TypecheckLib, TscRun[]> = { wirecall: [], trpc: [], zodOnly: [] }
  for (let run = 0; run < runs; run++) {
    const order = [...LIBS.slice(run % LIBS.length), ...LIBS.slice(0, run % LIBS.length)]
    for (const lib of order) samples[lib].push(await runTsc(dirs[lib]))
  }
  return samples
}

/**
 * Median check time, total time and memory of `tsc` on the generated
 * project of each library, over `runs` runs each (default 3), interleaved.
 * Throws, with tsc's first errors, if a generated project does not type-check.
 */
export async function measureTypecheck(opts: { runs?: number } = {}): Promise<Record<TypecheckLib, TypecheckResult>> {
  const samples = await typecheckRuns(opts.runs ?? 3)
  const summarize = (runs: TscRun[]): TypecheckResult => ({
    checkTimeS: median(runs.map((r) => r.checkTimeS)),
    totalTimeS: median(runs.map((r) => r.totalTimeS)),
    memoryKB: median(runs.map((r) => r.memoryKB)),
    types: median(runs.map((r) => r.types)),
    instantiations: median(runs.map((r) => r.instantiations)),
  })
  return { wirecall: summarize(samples.wirecall), trpc: summarize(samples.trpc), zodOnly: summarize(samples.zodOnly) }
}

async function printResults(runs: number): Promise<void> {
  const samples = await typecheckRuns(runs)
  const row = (lib: TypecheckLib) => {
    const r = samples[lib]
    const med = (pick: (run: TscRun) => number) => median(r.map(pick))
    return { check: med((x) => x.checkTimeS), total: med((x) => x.totalTimeS), memory: med((x) => x.memoryKB), types: r[0]!.types, instantiations: r[0]!.instantiations }
  }
  const rows = { wirecall: row('wirecall'), trpc: row('trpc'), zodOnly: row('zodOnly') }
  const w = rows.wirecall
  const t = rows.trpc
  const f = rows.zodOnly
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`
  // Above the floor: what the library adds to what zod alone costs.
  const above = (x: typeof w, pick: (r: typeof w) => number) => pick(x) - pick(f)
  const aboveRatio = (pick: (r: typeof w) => number) => ratio(above(w, pick), above(t, pick))
  console.log(
    [
      `500 procedures, a client using each; tsc, median of ${runs} runs each`,
      '',
      '| | check time | total time | memory | types | instantiations |',
      '|---|---:|---:|---:|---:|---:|',
      ...LIBS.map((lib) => {
        const x = rows[lib]
        return `| ${lib} | ${x.check.toFixed(2)} s | ${x.total.toFixed(2)} s | ${Math.round(x.memory / 1024)} MB | ${x.types} | ${x.instantiations} |`
      }),
      `| wirecall / trpc | ${ratio(w.check, t.check)} | ${ratio(w.total, t.total)} | ${ratio(w.memory, t.memory)} | ${ratio(w.types, t.types)} | ${ratio(w.instantiations, t.instantiations)} |`,
      `| above zodOnly: wirecall / trpc | ${aboveRatio((r) => r.check)} | ${aboveRatio((r) => r.total)} | ${aboveRatio((r) => r.memory)} | ${aboveRatio((r) => r.types)} | ${aboveRatio((r) => r.instantiations)} |`,
    ].join('\n'),
  )
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf('--runs')
  const runs = at === -1 ? 3 : Number(process.argv[at + 1])
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer')
  printResults(runs).catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
