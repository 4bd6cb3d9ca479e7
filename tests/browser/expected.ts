import type { RichReport } from './fixtures/probe'

/**
 * What the probe's `rich()` must report in every runtime: `inspect` got a
 * Date, a Map of BigInts (one past 2^64) and a BigInt, and answered with a
 * Date, a Map, a BigInt and a Set, each arriving as its own class.
 */
export const EXPECTED_RICH: RichReport = {
  nextDayIsDate: true,
  nextDay: '2024-02-29T12:00:00.000Z',
  doubledIsMap: true,
  doubled: [
    ['small', 'bigint', '2'],
    ['huge', 'bigint', String(2n ** 71n)],
  ],
  sumType: 'bigint',
  sum: String(1n + 2n ** 70n + 5n),
  keysIsSet: true,
  keys: ['small', 'huge'],
}
