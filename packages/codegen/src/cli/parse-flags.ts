import { parseArgs } from 'node:util'
import { CliError } from '../cli-error'

/** The flag table of a command, in `node:util`'s `parseArgs` form. */
export type FlagTable = Readonly<Record<string, { readonly type: 'string' | 'boolean' }>>

/** What {@link parseFlags} returns for a table: each flag's value, or `undefined` when absent. */
export type FlagValues<T extends FlagTable> = {
  [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string
}

/**
 * A generating command's flags (no positionals, no unknown flags); a
 * mistake is a `USAGE` error that names the command.
 */
export function parseFlags<T extends FlagTable>(command: string, args: readonly string[], flags: T): FlagValues<T> {
  try {
    return parseArgs({ args: [...args], options: flags, strict: true, allowPositionals: false }).values
  } catch (error) {
    throw new CliError('USAGE', `${command}: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** `--params`: the JSON object a `--url` command sends as connection params. */
export function paramsFlag(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new CliError('USAGE', `--params must be a JSON object (got ${text})`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CliError('USAGE', `--params must be a JSON object (got ${text})`)
  return value as Record<string, unknown>
}
