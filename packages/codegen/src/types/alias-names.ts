/**
 * Names the generated file must not declare: the global types a generated
 * type refers to, and TypeScript's own type keywords.
 */
const RESERVED: readonly string[] = [
  'Date', 'Map', 'Set', 'URL', 'RegExp', 'Error', 'Array', 'ReadonlyArray', 'Record', 'Promise',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
  'string', 'number', 'boolean', 'bigint', 'symbol', 'object', 'unknown', 'never', 'any', 'void', 'undefined', 'null',
  'ResyncSignal',
]

/** Turns any text into an identifier: `Page<User>` → `Page_User`. */
export function toIdentifier(text: string): string {
  const cleaned = text.replace(/[^\w$]+/g, '_').replace(/^_+|_+$/g, '')
  if (cleaned === '') return 'Type'
  return /^\d/.test(cleaned) ? `T${cleaned}` : cleaned
}

/** Hands out unique alias names: a name taken gets `2`, `3`… */
export class AliasNames {
  private readonly taken = new Set<string>(RESERVED)

  /** A fresh name for `wanted` (made an identifier first). */
  claim(wanted: string): string {
    const base = toIdentifier(wanted)
    let name = base
    for (let n = 2; this.taken.has(name); n++) name = `${base}${n}`
    this.taken.add(name)
    return name
  }
}
