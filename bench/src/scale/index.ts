/**
 * Every scale case by name, in the report's order. Each lives in its own
 * file (or folder) under scale/.
 */
import type { ScaleCase } from './figure'

export const SCALE_CASES: readonly ScaleCase[] = []

export type { Figure, ScaleCase, ScaleContext, Series, Point } from './figure'
