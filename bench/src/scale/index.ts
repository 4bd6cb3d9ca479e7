/**
 * Every scale case by name, in the report's order. Each lives in its own
 * file (or folder) under scale/.
 */
import type { ScaleCase } from './figure'
import { idle } from './idle'
import { storm } from './storm'
import { inflight } from './calls/inflight'
import { payload } from './calls/payload'
import { resume } from './resume'
import { fanoutScale } from './fanout'

export const SCALE_CASES: readonly ScaleCase[] = [idle, storm, inflight, payload, resume, fanoutScale]

export type { Figure, ScaleCase, ScaleContext, Series, Point } from './figure'
