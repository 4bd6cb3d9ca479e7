import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { frameShapeProblem } from '../src/frame-shape'

const limits = { maxDepth: 3, maxContainers: 5 }

/** The depth and container count of a parsed JSON value, measured the slow, obvious way. */
function shapeOf(value: unknown, depth = 0): { depth: number; containers: number } {
  if (typeof value !== 'object' || value === null) return { depth, containers: 0 }
  let deepest = depth + 1
  let containers = 1
  for (const child of Object.values(value)) {
    const inner = shapeOf(child, depth + 1)
    deepest = Math.max(deepest, inner.depth)
    containers += inner.containers
  }
  return { depth: deepest, containers }
}

describe('frameShapeProblem', () => {
  it('finds nesting past maxDepth', () => {
    expect(frameShapeProblem('[[[1]]]', limits)).toBeUndefined()
    expect(frameShapeProblem('[[[[1]]]]', limits)).toBe('nested deeper than 3 levels')
    expect(frameShapeProblem('{"a":{"b":{"c":{}}}}', limits)).toBe('nested deeper than 3 levels')
  })

  it('finds more arrays and objects than maxContainers, however shallow', () => {
    expect(frameShapeProblem('[[],[],[],[]]', limits)).toBeUndefined()
    expect(frameShapeProblem('[[],[],[],[],[]]', limits)).toBe('more than 5 arrays and objects')
  })

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(frameShapeProblem('{"a":"[[[[[[[[{{{{"}', limits)).toBeUndefined()
    expect(frameShapeProblem('{"a":"\\"[[[[[[[[","b":"\\\\"}', limits)).toBeUndefined()
    // After an escaped backslash the quote does close the string: the brackets after it count.
    expect(frameShapeProblem('["\\\\",[[[[1]]]]]', limits)).toBe('nested deeper than 3 levels')
  })

  it('leaves malformed text to JSON.parse', () => {
    expect(frameShapeProblem('{"a":"never closed [[[[[[[[', limits)).toBeUndefined()
    expect(frameShapeProblem(']]]]]]]]]]', limits)).toBeUndefined()
  })

  it('agrees with a walk of the parsed value, on any JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 30 }), (value, maxDepth, maxContainers) => {
        const text = JSON.stringify(value)
        const shape = shapeOf(value)
        const problem = frameShapeProblem(text, { maxDepth, maxContainers })
        expect(problem !== undefined).toBe(shape.depth > maxDepth || shape.containers > maxContainers)
      }),
      { numRuns: 500 },
    )
  })
})
