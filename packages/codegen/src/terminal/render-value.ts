import { inspect } from 'node:util'
import { defaultSerializer } from '@wirecall/core'
import type { CliIo } from '../cli/io'

/** How values are written on stdout: `pretty` for people, `json` (`--json`) for pipes. */
export interface ValueRenderer {
  /** One value as the text to write, without the final newline. */
  render(value: unknown): string
}

/**
 * `util.inspect` of the revived value, whole (no depth or length cut), so
 * a Date, Map, Set, bigint or URL reads as itself (`2024-01-01T00:00:00.000Z`,
 * `Map(1) { 'a' => 1 }`, `12n`). Colours only when the stream is a
 * terminal and `NO_COLOR` is unset or empty (https://no-color.org).
 */
export function prettyRenderer(stream: CliIo['stdout'], env: CliIo['env']): ValueRenderer {
  const colors = useColor(stream, env)
  return { render: (value) => inspect(value, { depth: null, colors, maxArrayLength: null, maxStringLength: null }) }
}

/**
 * One JSON text per value, on one line: the value's wire form, the `json`
 * part the default serializer sends (docs/encoding.md), which the JSON
 * Schemas of `wirecall generate schema` describe. A Date is its ISO string,
 * a bigint its decimal string, a Map the array of its `[key, value]`
 * pairs, a Set the array of its elements, `undefined` is `null`, a URL its
 * href, a RegExp `"/source/flags"`, `NaN`/`±Infinity`/`-0` the strings
 * `"NaN"`, `"Infinity"`, `"-Infinity"`, `"-0"`.
 */
export const jsonRenderer: ValueRenderer = {
  render: (value) => JSON.stringify(wireJson(value)),
}

/** The `json` part of `value` as wirecall's default serializer puts it on the wire. */
export function wireJson(value: unknown): unknown {
  return defaultSerializer.serialize(value).json ?? null
}

/** Whether to colour what is written to `stream`. */
export function useColor(stream: CliIo['stdout'], env: CliIo['env']): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '')
}
