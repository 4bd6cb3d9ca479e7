/**
 * `pnpm --filter @wirecall/bench scale-out [--quick] [--reps N]`: the
 * scale-out case alone (index.ts), after `pnpm build`. Prints its table
 * and writes every sample to bench/results/scale-out.json. Exits 1, naming
 * the configuration, on any failure; no process and no redis-server
 * outlives it.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { killAllChildren, killChildrenOnSignals } from '../child'
import { machineInfo } from '../machine'
import { renderScaleOut, runScaleOutCase } from './index'
import { CONFIGS } from './plan'

const RESULTS_DIR = fileURLToPath(new URL('../../results/', import.meta.url))

const USAGE = `Usage: pnpm --filter @wirecall/bench scale-out [flags]

  --reps N        repetitions of every configuration (default 3; 1 with --quick)
  --quick         small counts, 1 repetition: a smoke run
  --configs LIST  only these, comma-separated: ${CONFIGS.map((config) => config.id).join(',')} (ratios need memory)
  --profile       run the server processes with --cpu-prof into bench/results/profiles/scale-out/ (slows them down)
  --help          this text`

const log = (line: string) => process.stderr.write(`${line}\n`)

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { reps: { type: 'string' }, quick: { type: 'boolean', default: false }, configs: { type: 'string' }, profile: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
    strict: true,
  })
  if (values.help) return console.log(USAGE)
  const reps = values.reps === undefined ? (values.quick ? 1 : 3) : Number(values.reps)
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps takes a positive integer')
  const ids = values.configs?.split(',').map((id) => id.trim())
  const unknown = ids?.find((id) => !CONFIGS.some((config) => config.id === id))
  if (unknown !== undefined) throw new Error(`--configs: unknown "${unknown}" (one of ${CONFIGS.map((config) => config.id).join(', ')})`)
  const configs = ids === undefined ? CONFIGS : CONFIGS.filter((config) => ids.includes(config.id))
  const started = Date.now()
  const profileDir = values.profile ? `${RESULTS_DIR}profiles/scale-out` : undefined
  const result = await runScaleOutCase({ quick: values.quick, reps, log, configs, ...(profileDir === undefined ? {} : { profileDir }) })
  console.log(renderScaleOut(result).join('\n'))
  mkdirSync(RESULTS_DIR, { recursive: true })
  const file = `${RESULTS_DIR}scale-out.json`
  const durationS = (Date.now() - started) / 1000
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), argv: process.argv.slice(2), durationS, machine: machineInfo(), ...result }, null, 2)}\n`)
  log(`\nAll samples: ${file} (${durationS.toFixed(0)} s in all)`)
}

// redis-server.ts kills its servers on exit.
killChildrenOnSignals()

main()
  .catch((error: unknown) => {
    console.error(`\nBENCHMARK FAILED: ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = 1
  })
  .finally(killAllChildren)
