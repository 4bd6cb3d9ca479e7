/**
 * The printed output: one markdown table of medians with ratios to raw ws,
 * one of CPU time per operation, then what was measured and on what.
 */
import type { BundleSizes } from './bundle-size'
import { CASES, type CaseName, type RunSample } from './cases/index'
import { isVariant, runsCase, VARIANT_CASES, type ImplName } from './contract'
import type { MachineInfo } from './machine'
import { median } from './stats'

/** Medians of the typecheck measurement, per typed library, and of zod alone (the floor: same schemas, no RPC library). */
export type TypecheckSizes = Record<
  'wirecall' | 'trpc' | 'zodOnly',
  { checkTimeS: number; totalTimeS: number; memoryKB: number; types: number; instantiations: number }
>

export const IMPL_TITLES: Record<ImplName, string> = {
  raw: 'raw ws',
  wirecall: 'wirecall',
  'wirecall-baseline': 'wirecall baseline',
  'wirecall-hooks': 'wirecall + empty hooks',
  'wirecall-otel': 'wirecall + otel',
  trpc: 'tRPC v11',
  socketio: 'socket.io v4',
}

/** What the tables are made of. */
export interface Report {
  reps: number
  quick: boolean
  cases: CaseName[]
  impls: ImplName[]
  samples: Record<CaseName, Record<ImplName, RunSample[]>>
  bundles: BundleSizes | 'skipped'
  typecheck: TypecheckSizes | 'skipped'
  typecheckRuns: number
  machine: MachineInfo
  profiled: boolean
  /** The commit `wirecall-baseline` was built from, with `--baseline`. */
  baseline?: string | undefined
}

/** A number as the table shows it: thousands separators for large ones, a few digits for small ones. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a'
  const abs = Math.abs(value)
  return DIGITS[abs >= 100 ? 0 : abs >= 10 ? 1 : 2]!.format(value)
}

/** Made once: a `toLocaleString` per number took most of a chart's render time. */
const DIGITS = [0, 1, 2].map((digits) => new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }))

const ratio = (value: number, base: number) => `${(value / base).toFixed(2)}×`
const arrow = (better: 'higher' | 'lower') => (better === 'higher' ? '↑' : '↓')

/** A row: a label, and a value per implementation (undefined: not applicable). */
interface Row {
  label: string
  better: 'higher' | 'lower'
  values: Partial<Record<ImplName, number>>
  /** The value the ratios divide by; none: no ratio column. */
  base: 'raw' | 'trpc' | 'none'
}

function cells(row: Row, impls: ImplName[]): string[] {
  const base = row.base === 'none' ? undefined : row.values[row.base]
  return impls.map((impl) => {
    const value = row.values[impl]
    if (value === undefined) return '—'
    if (base === undefined || impl === row.base) return formatNumber(value)
    return `${formatNumber(value)} (${ratio(value, base)}${row.base === 'trpc' ? ' tRPC' : ''})`
  })
}

/** The main table's rows as data: label, which way is better, the median per implementation. */
export function summaryRows(report: Report): { label: string; better: 'higher' | 'lower'; medians: Partial<Record<ImplName, number>> }[] {
  return mainRows(report).map(({ label, better, values }) => ({ label, better, medians: values }))
}

/** Median CPU µs per operation, server and client side, per case and implementation. */
export function cpuSummary(report: Report): Partial<Record<CaseName, Partial<Record<ImplName, { serverUs: number; clientUs: number }>>>> {
  const summary: Partial<Record<CaseName, Partial<Record<ImplName, { serverUs: number; clientUs: number }>>>> = {}
  for (const name of report.cases) {
    const perImpl: Partial<Record<ImplName, { serverUs: number; clientUs: number }>> = {}
    for (const impl of report.impls) {
      const samples = report.samples[name][impl]
      if (samples.length === 0) continue
      perImpl[impl] = { serverUs: median(samples.map((s) => s.serverCpuUs / s.ops)), clientUs: median(samples.map((s) => s.clientCpuUs / s.ops)) }
    }
    summary[name] = perImpl
  }
  return summary
}

function mainRows(report: Report): Row[] {
  const rows: Row[] = []
  for (const name of report.cases) {
    const benchCase = CASES[name]
    const derived = [{ label: benchCase.label, better: benchCase.better, value: benchCase.value }, ...(benchCase.extraRows ?? [])]
    for (const { label, better, value } of derived) {
      const values: Partial<Record<ImplName, number>> = {}
      for (const impl of report.impls) if (runsCase(impl, name)) values[impl] = median(report.samples[name][impl].map(value))
      rows.push({ label, better, values, base: 'raw' })
    }
  }
  if (report.bundles !== 'skipped') {
    const values: Partial<Record<ImplName, number>> = {}
    for (const impl of report.impls) {
      const size = report.bundles[impl]
      if (size !== null) values[impl] = size.gzipped / 1024
    }
    rows.push({ label: 'client bundle KB, min+gzip', better: 'lower', values, base: 'raw' })
  }
  if (report.typecheck !== 'skipped') {
    const { wirecall, trpc, zodOnly } = report.typecheck
    const pick = (get: (r: TypecheckSizes['trpc']) => number) => {
      const values: Partial<Record<ImplName, number>> = {}
      if (report.impls.includes('wirecall')) values.wirecall = get(wirecall)
      if (report.impls.includes('trpc')) values.trpc = get(trpc)
      return values
    }
    rows.push(
      { label: 'tsc check time s, 500 procedures', better: 'lower', values: pick((r) => r.checkTimeS), base: 'trpc' },
      // What each library adds to what its zod schemas cost anyway: the part a library can change.
      { label: 'tsc check time s above zod alone', better: 'lower', values: pick((r) => r.checkTimeS - zodOnly.checkTimeS), base: 'trpc' },
      { label: 'tsc total time s, 500 procedures', better: 'lower', values: pick((r) => r.totalTimeS), base: 'trpc' },
      { label: 'tsc memory MB, 500 procedures', better: 'lower', values: pick((r) => r.memoryKB / 1024), base: 'trpc' },
      // The same on every run, whatever the load: the figure to compare changes by.
      { label: 'tsc instantiations, 500 procedures', better: 'lower', values: pick((r) => r.instantiations), base: 'trpc' },
      { label: 'tsc instantiations above zod alone', better: 'lower', values: pick((r) => r.instantiations - zodOnly.instantiations), base: 'trpc' },
      { label: 'tsc types, 500 procedures', better: 'lower', values: pick((r) => r.types), base: 'trpc' },
    )
  }
  return rows
}

const OP_NAMES: Record<CaseName, string> = { calls: 'call', latency: 'call', push: 'event', fanout: 'delivery', memory: 'connection' }

function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)]
}

/**
 * The variants against plain wirecall (issue 20): the ratio of each to
 * `wirecall` in the same run. Empty when no variant ran, or plain wirecall
 * did not.
 */
function instrumentationSection(report: Report, runs: string): string[] {
  const variants = report.impls.filter(isVariant)
  const cases = report.cases.filter((name) => (VARIANT_CASES as readonly CaseName[]).includes(name))
  if (variants.length === 0 || cases.length === 0 || !report.impls.includes('wirecall')) return []
  const impls: ImplName[] = ['wirecall', ...variants]
  const cell = (value: number, base: number, impl: ImplName) => (impl === 'wirecall' ? formatNumber(value) : `${formatNumber(value)} (${ratio(value, base)})`)
  const rows = cases.flatMap((name) => {
    const benchCase = CASES[name]
    const throughput = (impl: ImplName) => median(report.samples[name][impl].map(benchCase.value))
    const cpu = (impl: ImplName, side: 'serverCpuUs' | 'clientCpuUs') => median(report.samples[name][impl].map((s) => s[side] / s.ops))
    return [
      [`${benchCase.label} ${arrow(benchCase.better)}`, ...impls.map((impl) => cell(throughput(impl), throughput('wirecall'), impl))],
      [`${name}: server CPU µs per ${OP_NAMES[name]} ↓`, ...impls.map((impl) => cell(cpu(impl, 'serverCpuUs'), cpu('wirecall', 'serverCpuUs'), impl))],
      [`${name}: client CPU µs per ${OP_NAMES[name]} ↓`, ...impls.map((impl) => cell(cpu(impl, 'clientCpuUs'), cpu('wirecall', 'clientCpuUs'), impl))],
    ]
  })
  return [
    '',
    `### wirecall variants: ratio to plain wirecall (no instrumentation), ${runs}`,
    '',
    'Each cell: the median, then (its ratio to plain wirecall in the same run).' +
      (report.baseline === undefined ? '' : ` wirecall baseline is the same, built from ${report.baseline.slice(0, 12)}: a ratio near 1.00× means no change.`),
    '',
    ...table(['case', ...impls.map((impl) => IMPL_TITLES[impl])], rows),
  ]
}

/** The whole printed report, as lines. */
export function renderReport(report: Report): string[] {
  const titles = report.impls.map((impl) => IMPL_TITLES[impl])
  const runs = report.reps === 1 ? '1 run' : `medians of ${report.reps} runs`
  const lines: string[] = []

  lines.push(`## wirecall vs raw ws, tRPC and socket.io (${runs}${report.quick ? ', --quick: small counts, a smoke run' : ''})`, '')
  lines.push(
    'Each cell: the median, then (its ratio to raw ws: value ÷ raw). ↑ higher is better, ↓ lower is better:',
    'on ↑ rows a ratio below 1.00× means slower than raw ws; on ↓ rows a ratio above 1.00× means slower or bigger.',
    'tsc rows have no raw baseline: their ratio is to tRPC.',
    '',
  )
  lines.push(...table(['case', ...titles], mainRows(report).map((row) => [`${row.label} ${arrow(row.better)}`, ...cells(row, report.impls)])))

  lines.push('', `### CPU time per operation, µs (user + system), server / client, ${runs}`, '')
  lines.push('Server: the server process between go and done. Client: the client process over the measured part. (ratio to raw ws, server / client). Lower is better.', '')
  lines.push(
    ...table(
      ['case (per …)', ...titles],
      report.cases.map((name) => {
        const perOp = (impl: ImplName, side: 'serverCpuUs' | 'clientCpuUs') => median(report.samples[name][impl].map((s) => s[side] / s.ops))
        const raw = report.impls.includes('raw') ? { server: perOp('raw', 'serverCpuUs'), client: perOp('raw', 'clientCpuUs') } : undefined
        return [
          `${name} (${OP_NAMES[name]})`,
          ...report.impls.map((impl) => {
            if (!runsCase(impl, name)) return '—'
            const server = perOp(impl, 'serverCpuUs')
            const client = perOp(impl, 'clientCpuUs')
            const text = `${formatNumber(server)} / ${formatNumber(client)}`
            return raw === undefined || impl === 'raw' ? text : `${text} (${ratio(server, raw.server)} / ${ratio(client, raw.client)})`
          }),
        ]
      }),
    ),
  )

  lines.push(...instrumentationSection(report, runs))

  lines.push('', 'Cases:')
  for (const name of report.cases) lines.push(`- ${name}: ${CASES[name].describe(report.quick)}`)
  if (report.bundles !== 'skipped') lines.push('- bundle: esbuild (bundle, minify, browser, ESM) of a small client app per library, gzip -9; raw is a few lines of WebSocket + JSON')
  if (report.typecheck !== 'skipped') {
    lines.push(
      `- tsc: \`tsc --noEmit\` (strict) of a generated 500-procedure router and a client using every procedure, median of ${report.typecheckRuns} run(s) each;` +
        ` zod alone: the same schemas and resolvers as plain functions, no RPC library (the floor), ${formatNumber(report.typecheck.zodOnly.checkTimeS)} s check, ${formatNumber(report.typecheck.zodOnly.memoryKB / 1024)} MB, ${formatNumber(report.typecheck.zodOnly.instantiations)} instantiations, ${formatNumber(report.typecheck.zodOnly.types)} types`,
    )
  }
  lines.push(
    '- every run: a fresh server process and a fresh client process; impl order rotates with the repetition',
    '- wirecall: every server and client default (rate limit and limits on); socket.io: websocket transport only',
  )
  if (report.impls.some(isVariant)) {
    lines.push(
      `- wirecall + empty hooks: every server and client hook present, doing nothing (onCall passes through); wirecall + otel: @wirecall/otel with the OpenTelemetry SDK, every span exported to an in-memory exporter, metrics into an in-memory reader` +
        (report.baseline === undefined ? '' : `; wirecall baseline: plain wirecall built from ${report.baseline.slice(0, 12)}`) +
        `; the variants run ${VARIANT_CASES.join(' and ')} only`,
    )
  }
  if (report.bundles === 'skipped') lines.push('- bundle sizes: skipped (--no-bundle)')
  if (report.typecheck === 'skipped') lines.push('- tsc: skipped (--no-typecheck, or --quick without --typecheck)')
  if (report.profiled) lines.push('- **--profile was on: the wirecall children ran with --cpu-prof (profiles in bench/results/profiles/), which slows them; do not compare these numbers**')

  const { machine } = report
  lines.push('', `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}; ${machine.os}`)
  lines.push(`Versions: ${Object.entries(machine.versions).map(([name, version]) => `${name} ${version}`).join(', ')}`)
  lines.push(`wirecall built from ${machine.wirecallCommit} (packages/*/dist)`)
  return lines
}
