/**
 * Plain wirecall (no instrumentation) from the build that `--baseline REF`
 * made of another commit (baseline.ts), whose directory the orchestrator
 * passes to the children as `WIRECALL_BASELINE_DIR`. Same router, same
 * client code, same defaults as `wirecall`: only the library differs.
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Impl } from '../contract'
import { createWirecallImpl, type WirecallLib } from './wirecall'

function baselineModule<T>(name: string): () => Promise<T> {
  return async () => {
    const dir = process.env.WIRECALL_BASELINE_DIR
    if (dir === undefined || dir === '') throw new Error('wirecall-baseline runs only with --baseline REF (WIRECALL_BASELINE_DIR is not set)')
    // The baseline's API is today's for everything the bench uses; its types are not checked against it.
    return (await import(pathToFileURL(join(dir, `${name}.mjs`)).href)) as T
  }
}

const baseline: WirecallLib = {
  server: baselineModule<Awaited<ReturnType<WirecallLib['server']>>>('server'),
  client: baselineModule<Awaited<ReturnType<WirecallLib['client']>>>('client'),
}

/** wirecall from the baseline build. */
export const wirecallBaseline: Impl = createWirecallImpl('wirecall-baseline', undefined, baseline)
