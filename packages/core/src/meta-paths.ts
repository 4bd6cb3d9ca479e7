import { hasOwn, isObject, refuse } from './payload-refusal'

/**
 * superjson's paths, as the payload checks read them: parsed exactly as
 * superjson parses them, and resolved against the payload's JSON.
 */

/** A position in `json` that annotation paths reach; `kind` is set once an annotation there has been applied. */
export interface PathNode {
  kind?: number
  children?: Map<string, PathNode>
}

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor'])

export const MISSING: unique symbol = /* @__PURE__ */ Symbol('missing')

/** `parent[segment]` for an own key of an object or a canonical index of an array; MISSING otherwise. */
export function child(parent: unknown, segment: string): unknown {
  if (Array.isArray(parent)) {
    const index = arrayIndex(segment)
    return index >= 0 && index < parent.length ? (parent[index] as unknown) : MISSING
  }
  if (isObject(parent)) return hasOwn(parent, segment) ? parent[segment] : MISSING
  return MISSING
}

/** `segment` as an array index when it is one written as superjson writes it (`0`, `17`), else -1. */
export function arrayIndex(segment: string): number {
  const length = segment.length
  if (length === 0 || length > 10 || (length > 1 && segment.charCodeAt(0) === 48)) return -1
  let index = 0
  for (let i = 0; i < length; i++) {
    const c = segment.charCodeAt(i)
    if (c < 48 || c > 57) return -1
    index = index * 10 + (c - 48)
  }
  return index < 4_294_967_295 ? index : -1
}

export function pathNode(parent: PathNode, segment: string): PathNode {
  parent.children ??= new Map()
  let node = parent.children.get(segment)
  if (node === undefined) {
    node = {}
    parent.children.set(segment, node)
  }
  return node
}

/**
 * superjson's `parsePath`: segments joined by `.`, with `\.` for a dot and
 * `\\` for a backslash (any other escape is an error); legacy paths (meta
 * without `v`) know only `\.`. Refuses forbidden segments and more than
 * `maxSegments` of them.
 */
export function parsePath(path: string, legacy: boolean, maxSegments: number): string[] {
  const segments: string[] = []
  let segment = ''
  const end = (next: string) => {
    if (FORBIDDEN_SEGMENTS.has(next)) refuse(`path segment "${next}" is not allowed`)
    if (segments.push(next) > maxSegments) refuse(`path deeper than the depth limit`)
  }
  let start = 0
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i)
    if (c === 46 /* . */) {
      end(segment + path.slice(start, i))
      segment = ''
      start = i + 1
    } else if (c === 92 /* \ */) {
      const next = path.charCodeAt(i + 1)
      if (next === 46 || (!legacy && next === 92)) {
        segment += path.slice(start, i) + path.charAt(i + 1)
        start = i + 2
        i++
      } else if (!legacy) {
        refuse('malformed path')
      }
    }
  }
  end(segment + path.slice(start))
  return segments
}
