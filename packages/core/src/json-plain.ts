/** Nesting depth past which the fast path gives up and lets the serializer decide. */
const PLAIN_DEPTH_LIMIT = 64

/**
 * True when `JSON.parse(JSON.stringify(value))` gives back an equal value:
 * null, booleans, strings, finite numbers other than -0, and arrays and plain
 * objects of those. Such values need no serializer metadata.
 */
export function isJsonPlain(value: unknown, depth = 0): boolean {
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- every other typeof (bigint, undefined, function, symbol) is "not plain"
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0)
    case 'object': {
      if (value === null) return true
      if (depth >= PLAIN_DEPTH_LIMIT) return false
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          // `i in value` is false for holes, which JSON turns into null.
          if (!(i in value) || !isJsonPlain(value[i], depth + 1)) return false
        }
        return true
      }
      const proto = Object.getPrototypeOf(value) as unknown
      if (proto !== Object.prototype && proto !== null) return false
      for (const key in value) {
        if (!isJsonPlain((value as Record<string, unknown>)[key], depth + 1)) return false
      }
      // Symbol keys are dropped by JSON; superjson drops them too.
      return true
    }
    default:
      return false
  }
}
