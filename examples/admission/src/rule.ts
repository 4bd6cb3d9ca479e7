/** The smallest and largest number the gate accepts as input. */
export const MIN_NUMBER = 1
export const MAX_NUMBER = 100

/** The gate's verdict on one number. */
export interface Verdict {
  number: number
  admitted: boolean
  /** Why, in one sentence, for the page. */
  reason: string
}

/**
 * The admission rule: a number is lucky, and admitted, when it is divisible
 * by 7 or has a 7 among its digits. 30 of the numbers 1 to 100 are. A pure
 * function, shared by the query, the announcements and the tests.
 */
export function judge(number: number): Verdict {
  const divisible = number % 7 === 0
  const hasSeven = String(number).includes('7')
  const reason =
    divisible && hasSeven
      ? `${number} is divisible by 7 (7 × ${number / 7}) and contains a 7`
      : divisible
        ? `${number} is divisible by 7 (7 × ${number / 7})`
        : hasSeven
          ? `${number} contains a 7`
          : `${number} is not divisible by 7 and has no 7 in it`
  return { number, admitted: divisible || hasSeven, reason }
}
