/**
 * The benchmark's orchestrator: `pnpm bench` (root: builds first) or
 * `pnpm --filter @wirecall/bench bench [flags]`. See bench/README.md.
 *
 * For each repetition, case and implementation (in an order that rotates
 * with the repetition, so drift hits all alike), one run in fresh processes
 * (run.ts); then bundle sizes and tsc; then one table of medians, one of CPU
 * time per operation, and bench/results/latest.json with every sample.
 * A failed verification (or any failure) exits 1 naming the case and the
 * implementation, and prints no table.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { CASE_NAMES, CASES, type CaseName, type RunSample } from './cases/index'
import { ChildFailure, killAllChildren, killChildrenOnSignals } from './child'
import { IMPLS, runsCase, VARIANT_CASES, type ImplName } from './contract'
import { describeError } from './ipc'
import { machineInfo } from './machine'
import { runOnce } from './run'
import { rotate } from './stats'
import { SCALE_CASES, type Figure } from './scale/index'
import { renderScaleOut, runScaleOutCase, SCALE_OUT_NAME, type ScaleOutResult } from './scale-out/index'
import { redisVersion } from './scale-out/redis-server'
import { figureTable } from './scale/report'
import { IMPL_TITLES, cpuSummary, formatNumber, renderReport, summaryRows, type Report } from './table'

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url))
/** Where a full run draws its charts (docs/benchmarks.md shows them); a --quick run draws into results/charts/. */
const DOCS_CHARTS_DIR = fileURLToPath(new URL('../../docs/benchmarks/', import.meta.url))
// scale-out (issue 16) prints its own table, ratios to the in-memory channel: it is selected like a scale case and runs after them.
const SCALE_NAMES = [...SCALE_CASES.map((scaleCase) => scaleCase.name), SCALE_OUT_NAME]

const USAGE = `Usage: pnpm --filter @wirecall/bench bench [flags]

  --reps N          repetitions of every case × implementation (default 5; 1 with --quick)
  --scale-reps N    repetitions of every scale point (default 3; 1 with --quick)
  --quick           small counts, 1 repetition, no tsc: a smoke run
  --only LIST       cases, comma-separated: ${CASE_NAMES.join(',')} (none: no main case)
  --scale LIST      scale cases, comma-separated: ${SCALE_NAMES.join(',')} (default all; none: skip)
  --impls LIST      implementations, comma-separated: ${IMPLS.join(',')} (ratios need raw;
                    the wirecall-* variants run only ${VARIANT_CASES.join(' and ')})
  --baseline REF    build wirecall as it was at git REF (a commit, HEAD...) and run it as wirecall-baseline
  --no-bundle       skip the bundle sizes
  --no-typecheck    skip the tsc measurement
  --typecheck       measure tsc even with --quick
  --profile         run the wirecall children with --cpu-prof into bench/results/profiles/
  --help            this text`

interface Options {
  reps: number
  scaleReps: number
  quick: boolean
  cases: CaseName[]
  /** The scale cases to run, after the main cases. */
  scale: string[]
  impls: ImplName[]
  bundle: boolean
  typecheck: boolean
  profile: boolean
  /** `--baseline REF`: the git ref to build wirecall-baseline from. */
  baseline: string | undefined
}

/** Splits a comma-separated list and checks each item against `allowed`. */
function list<T extends string>(flag: string, text: string | undefined, allowed: readonly T[]): T[] {
  if (text === undefined) return [...allowed]
  const items = text.split(',').map((item) => item.trim()).filter((item) => item !== '')
  for (const item of items) if (!allowed.includes(item as T)) throw new Error(`${flag}: unknown "${item}" (one of ${allowed.join(', ')})`)
  // Table order, whatever order was given.
  return allowed.filter((item) => items.includes(item))
}

function parseOptions(): Options | undefined {
  const { values } = parseArgs({
    options: {
      reps: { type: 'string' },
      'scale-reps': { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      scale: { type: 'string' },
      impls: { type: 'string' },
      'no-bundle': { type: 'boolean', default: false },
      'no-typecheck': { type: 'boolean', default: false },
      typecheck: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      baseline: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  })
  if (values.help) return undefined
  const quick = values.quick
  const reps = values.reps === undefined ? (quick ? 1 : 5) : Number(values.reps)
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps takes a positive integer')
  const scaleReps = values['scale-reps'] === undefined ? 3 : Number(values['scale-reps'])
  if (!Number.isInteger(scaleReps) || scaleReps < 1) throw new Error('--scale-reps takes a positive integer')
  return {
    reps,
    scaleReps,
    quick,
    cases: values.only === 'none' ? [] : list('--only', values.only, CASE_NAMES),
    scale: values.scale === 'none' ? [] : list('--scale', values.scale, SCALE_NAMES),
    impls: implList(values.impls, values.baseline),
    bundle: !values['no-bundle'],
    // A quick run stays well under a minute; tsc alone takes half of one.
    typecheck: !values['no-typecheck'] && (!quick || values.typecheck),
    profile: values.profile,
    baseline: values.baseline,
  }
}

/** The implementations to run: wirecall-baseline only with --baseline, and by default then. */
function implList(text: string | undefined, baseline: string | undefined): ImplName[] {
  const impls = list('--impls', text, IMPLS)
  if (baseline === undefined) {
    if (text !== undefined && impls.includes('wirecall-baseline')) throw new Error('--impls wirecall-baseline needs --baseline REF (the commit to build it from)')
    return impls.filter((impl) => impl !== 'wirecall-baseline')
  }
  return impls
}

function emptySamples(): Record<CaseName, Record<ImplName, RunSample[]>> {
  const samples = {} as Record<CaseName, Record<ImplName, RunSample[]>>
  for (const name of CASE_NAMES) samples[name] = Object.fromEntries(IMPLS.map((impl) => [impl, []])) as unknown as Record<ImplName, RunSample[]>
  return samples
}

const log = (line: string) => process.stderr.write(`${line}\n`)

async function main(): Promise<number> {
  const options = parseOptions()
  if (options === undefined) {
    console.log(USAGE)
    return 0
  }
  const started = Date.now()
  // Before minutes of other cases: a missing redis-server fails the run now, saying how to install it.
  if (options.scale.includes(SCALE_OUT_NAME)) log(`scale-out: ${redisVersion()}`)
  const profileDir = options.profile ? `${RESULTS_DIR}profiles` : undefined
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true })
  const samples = emptySamples()
  let baselineCommit: string | undefined
  if (options.baseline !== undefined && options.impls.includes('wirecall-baseline')) {
    const { prepareBaseline } = await import('./baseline')
    const { dir, commit } = await prepareBaseline(options.baseline)
    baselineCommit = commit
    // Children inherit it (run.ts reads process.env at each run).
    process.env.WIRECALL_BASELINE_DIR = dir
    log(`wirecall-baseline: ${options.baseline} = ${commit.slice(0, 12)}, built in ${dir}`)
  }

  for (let rep = 0; rep < options.reps; rep++) {
    for (const name of options.cases) {
      const benchCase = CASES[name]
      for (const impl of rotate(options.impls, rep)) {
        if (!runsCase(impl, name)) continue
        let sample: RunSample
        try {
          sample = await runOnce(benchCase, impl, { quick: options.quick, profileDir, rep })
        } catch (error) {
          // A child's failure carries the child's own stack; the orchestrator's adds nothing.
          const detail = error instanceof ChildFailure ? error.message : describeError(error)
          throw new Error(`case "${name}", implementation "${impl}" (repetition ${rep + 1}) failed:\n${detail}`)
        }
        samples[name][impl].push(sample)
        const seconds = ((Date.now() - started) / 1000).toFixed(0)
        log(`[${seconds}s] rep ${rep + 1}/${options.reps} ${name.padEnd(7)} ${IMPL_TITLES[impl].padEnd(12)} ${formatNumber(benchCase.value(sample))} ${benchCase.label}`)
      }
    }
  }

  const figures: Figure[] = []
  let scaleOut: ScaleOutResult | undefined
  for (const name of options.scale) {
    if (name === SCALE_OUT_NAME) {
      log(`scale: ${name} (wirecall in memory and on Redis)...`)
      scaleOut = await runScaleOutCase({ quick: options.quick, reps: options.quick ? 1 : options.scaleReps, log }).catch((error: unknown) => {
        const detail = error instanceof ChildFailure ? error.message : describeError(error)
        throw new Error(`scale case "${name}" failed:\n${detail}`)
      })
      continue
    }
    const scaleCase = SCALE_CASES.find((candidate) => candidate.name === name)!
    const impls = options.impls.filter((impl) => scaleCase.impls.includes(impl))
    log(`scale: ${name} (${impls.join(', ')})...`)
    try {
      figures.push(...(await scaleCase.run({ quick: options.quick, reps: options.quick ? 1 : options.scaleReps, impls, log })))
    } catch (error) {
      const detail = error instanceof ChildFailure ? error.message : describeError(error)
      throw new Error(`scale case "${name}" failed:\n${detail}`)
    }
  }

  let bundles: Report['bundles'] = 'skipped'
  if (options.bundle) {
    log('bundle sizes...')
    const { measureBundles } = await import('./bundle-size')
    bundles = await measureBundles(options.impls)
  }
  let typecheck: Report['typecheck'] = 'skipped'
  const typecheckRuns = options.quick ? 1 : 3
  if (options.typecheck) {
    log('tsc on 500 procedures (wirecall, tRPC, and zod alone as the floor)...')
    const { measureTypecheck } = await import('./typecheck/index')
    typecheck = await measureTypecheck({ runs: typecheckRuns })
  }

  const report: Report = {
    reps: options.reps,
    quick: options.quick,
    cases: options.cases,
    impls: options.impls,
    samples,
    bundles,
    typecheck,
    typecheckRuns,
    machine: machineInfo(),
    profiled: options.profile,
    baseline: baselineCommit,
  }
  if (options.cases.length > 0 || bundles !== 'skipped' || typecheck !== 'skipped') console.log(renderReport(report).join('\n'))
  if (figures.length > 0) {
    const runs = options.quick ? '1 run' : `medians of ${options.scaleReps} runs`
    const legend = options.scale.map((name) => `- ${name}: ${SCALE_CASES.find((scaleCase) => scaleCase.name === name)!.describe(options.quick)}`)
    console.log(['', `## How the figures grow${options.quick ? ' (--quick: small sizes, a smoke run)' : ''}`, '', ...figures.flatMap((figure) => figureTable(figure, runs)), 'Scale cases:', ...legend].join('\n'))
    const chartsDir = options.quick ? `${RESULTS_DIR}charts/` : DOCS_CHARTS_DIR
    const { writeCharts } = await import('./charts/index')
    writeCharts(figures, chartsDir)
    log(`charts: ${figures.length} SVG files in ${chartsDir}`)
  }

  if (scaleOut !== undefined) console.log(renderScaleOut(scaleOut).join('\n'))

  mkdirSync(RESULTS_DIR, { recursive: true })
  const file = `${RESULTS_DIR}latest.json`
  const results = {
    date: new Date().toISOString(),
    argv: process.argv.slice(2),
    durationS: (Date.now() - started) / 1000,
    summary: summaryRows(report),
    cpuPerOpUs: cpuSummary(report),
    ...report,
    scale: figures,
    scaleOut,
  }
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`)
  log(`\nAll samples: ${file} (${((Date.now() - started) / 1000).toFixed(0)} s in all)`)
  return 0
}

killChildrenOnSignals()

main()
  .then((code) => {
    process.exitCode = code
  })
  .catch((error: unknown) => {
    killAllChildren()
    console.error(`\nBENCHMARK FAILED: ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = 1
  })
  .finally(killAllChildren)
