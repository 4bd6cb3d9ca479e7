import type { SuperJSONLike } from './serializer'
const withFloatArrays = new WeakSet<object>()

/**
 * Registers transforms that carry NaN, ±Infinity and -0 inside
 * `Float32Array` / `Float64Array`, which superjson's own typed-array format
 * (a JSON array of numbers) turns into 0. Applied only to arrays that hold
 * such a value, so every other typed array keeps superjson's format. Once
 * per instance.
 */
export function registerFloatArrays(instance: SuperJSONLike): void {
  if (typeof instance.registerCustom !== 'function' || withFloatArrays.has(instance)) return
  withFloatArrays.add(instance)
  for (const Float of [Float32Array, Float64Array]) {
    instance.registerCustom(
      {
        isApplicable: (value: unknown) => value instanceof Float && hasSpecialFloat(value),
        serialize: (value: Float32Array | Float64Array) => Array.from(value, encodeFloat),
        deserialize: (json: unknown) => {
          if (!Array.isArray(json)) throw new TypeError(`${Float.name}: expected an array`)
          return (Float as Float64ArrayConstructor).from(json, decodeFloat)
        },
      },
      `wirecall.${Float.name}`,
    )
  }
}

function hasSpecialFloat(array: Float32Array | Float64Array): boolean {
  for (let i = 0; i < array.length; i++) {
    const n = array[i]!
    if (!Number.isFinite(n) || Object.is(n, -0)) return true
  }
  return false
}

function encodeFloat(n: number): number | string {
  if (Object.is(n, -0)) return '-0'
  return Number.isFinite(n) ? n : String(n)
}

function decodeFloat(value: unknown): number {
  if (typeof value === 'number') return value
  switch (value) {
    case 'NaN':
      return Number.NaN
    case 'Infinity':
      return Number.POSITIVE_INFINITY
    case '-Infinity':
      return Number.NEGATIVE_INFINITY
    case '-0':
      return -0
    default:
      throw new TypeError('float array: unexpected element')
  }
}
