/** Bounds on a frame's shape, checked by {@link frameShapeProblem} before it is parsed. */
export interface FrameShapeLimits {
  /** Deepest nesting of arrays and objects. */
  maxDepth: number
  /** Most arrays and objects in the whole frame. */
  maxContainers: number
}

/**
 * What is wrong with a JSON text's shape, found by one linear scan before
 * anything parses it, or `undefined`. `JSON.parse` pays for every array and
 * object it makes, more for nested ones (a 1 MiB frame of 500,000 small
 * arrays takes it about 100 ms, plus the garbage collection after, against
 * 3 ms for this scan and for a flat frame of that size), and a value that
 * deep makes `JSON.stringify` and any recursive walk overflow the stack
 * later; a receiver that checks first pays for neither.
 *
 * Brackets inside strings do not count. Not a validator: malformed text
 * may pass, and `JSON.parse` then refuses it. Each array or object takes at
 * least one character, so a text too short to break either bound (nearly
 * every frame) is not scanned at all.
 *
 * @example
 * frameShapeProblem('[[[1]]]', { maxDepth: 2, maxContainers: 10 }) // 'nested deeper than 2 levels'
 * frameShapeProblem('{"a":"[[[["}', { maxDepth: 2, maxContainers: 10 }) // undefined
 */
export function frameShapeProblem(text: string, limits: FrameShapeLimits): string | undefined {
  const n = text.length
  const { maxDepth, maxContainers } = limits
  if (n <= Math.min(maxDepth, maxContainers)) return undefined
  let depth = 0
  let containers = 0
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      i = stringEnd(text, i)
      if (i < 0) return undefined
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return `nested deeper than ${maxDepth} levels`
      if (++containers > maxContainers) return `more than ${maxContainers} arrays and objects`
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--
    }
  }
  return undefined
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d

/**
 * Index of the quote that closes the string opening at `start`, or -1 when
 * the text ends first. `indexOf` jumps over the string's content, which is
 * most of a string-heavy frame, instead of looking at every character.
 */
function stringEnd(text: string, start: number): number {
  let end = text.indexOf('"', start + 1)
  while (end > 0 && isEscaped(text, end)) end = text.indexOf('"', end + 1)
  return end
}

/** Whether the quote at `at` follows an odd number of backslashes. */
function isEscaped(text: string, at: number): boolean {
  let slashes = 0
  while (text.charCodeAt(at - 1 - slashes) === BACKSLASH) slashes++
  return slashes % 2 === 1
}
