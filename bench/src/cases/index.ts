/**
 * Every case by name, in the table's row order.
 */
import { calls } from './calls'
import type { BenchCase, CaseName } from './case'
import { fanout } from './fanout'
import { latency } from './latency'
import { memory } from './memory'
import { push } from './push'

export const CASES: Record<CaseName, BenchCase> = { calls, latency, push, fanout, memory }
export { CASE_NAMES, type BenchCase, type CaseName, type RunSample } from './case'
