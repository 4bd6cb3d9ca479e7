/**
 * The few statistics the tables need.
 */

/** The `q` quantile (0..1) of numbers sorted ascending, nearest rank. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]!
}

/** The median; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** `items` rotated left by `by`: the order of the runs in repetition `by`, so drift on a shared machine hits every line alike. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return []
  const shift = by % items.length
  return [...items.slice(shift), ...items.slice(0, shift)]
}
