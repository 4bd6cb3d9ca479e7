import { parseArgs } from 'node:util'
import { MAX_EVENT_ID_LENGTH } from '@wirecall/core'
import { CliError } from '../cli-error'
import { parseJsonArgument } from './json-argument'

/** What `call` and `subscribe` share: where to connect, which procedure, with what. */
export interface TerminalTarget {
  /** A `ws://` or `wss://` URL, as given. */
  readonly url: string
  /** The dotted path as given (`post.add`), for messages. */
  readonly path: string
  /** Its segments, for walking the client proxy. */
  readonly segments: readonly string[]
  /** The parsed JSON input; `undefined` when none was given (the procedure gets no input). */
  readonly input: unknown
  /** `--params`: the `connectionParams` object, if given. */
  readonly params: Record<string, unknown> | undefined
  /** `--json`: one JSON value per line on stdout, rich values in their wire form. */
  readonly json: boolean
}

/** `wirecall call` arguments. */
export interface CallArgs extends TerminalTarget {
  /** `--timeout`, from the start (connecting included) to the answer. @default 10_000 */
  readonly timeoutMs: number
  /** `--mutation`: send the call as a mutation instead of a query. */
  readonly mutation: boolean
}

/** `wirecall subscribe` arguments. */
export interface SubscribeArgs extends TerminalTarget {
  /** `--last-event-id`: resume after this event (replay, then live). */
  readonly lastEventId: string | undefined
}

/** Default of `--timeout`. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000

/** Longest `--timeout` a Node timer can wait (about 24.8 days). */
const MAX_TIMEOUT_MS = 2_147_483_647

/** Parses `wirecall call <url> <path> [json] [--params json] [--timeout ms] [--mutation] [--json]`; a mistake is a `USAGE` error. */
export function parseCallArgs(args: readonly string[]): CallArgs {
  const { values, positionals } = usageErrors(() =>
    parseArgs({
      args: [...args],
      options: { params: { type: 'string' }, timeout: { type: 'string' }, mutation: { type: 'boolean' }, json: { type: 'boolean' } },
      strict: true,
      allowPositionals: true,
    }),
  )
  return {
    ...target('call', positionals, values),
    timeoutMs: values.timeout === undefined ? DEFAULT_CALL_TIMEOUT_MS : timeout(values.timeout),
    mutation: values.mutation === true,
  }
}

/** Parses `wirecall subscribe <url> <path> [json] [--params json] [--last-event-id id] [--json]`; a mistake is a `USAGE` error. */
export function parseSubscribeArgs(args: readonly string[]): SubscribeArgs {
  const { values, positionals } = usageErrors(() =>
    parseArgs({
      args: [...args],
      options: { params: { type: 'string' }, 'last-event-id': { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
      allowPositionals: true,
    }),
  )
  const lastEventId = values['last-event-id']
  if (lastEventId !== undefined && (lastEventId === '' || lastEventId.length > MAX_EVENT_ID_LENGTH)) {
    throw new CliError('USAGE', `--last-event-id must be 1 to ${MAX_EVENT_ID_LENGTH} characters`)
  }
  return { ...target('subscribe', positionals, values), lastEventId }
}

/** The options both commands share. */
interface SharedValues {
  readonly params?: string | undefined
  readonly json?: boolean | undefined
}

/** Runs `node:util`'s `parseArgs`, its errors turned into `USAGE` errors. */
function usageErrors<T>(parse: () => T): T {
  try {
    return parse()
  } catch (cause) {
    // parseArgs' own message names the option and says how to pass a value starting with "-" (after "--").
    throw new CliError('USAGE', cause instanceof Error ? cause.message : String(cause))
  }
}

function target(command: string, positionals: readonly string[], values: SharedValues): TerminalTarget {
  const [url, path, input, ...extra] = positionals
  if (url === undefined || path === undefined) throw new CliError('USAGE', `${command} needs <url> and <path>`)
  if (extra.length > 0) throw new CliError('USAGE', `unexpected argument "${extra[0]}": the input is one JSON argument (quote it)`)
  const params = values.params === undefined ? undefined : parseJsonArgument(values.params, '--params')
  if (params !== undefined && !isPlainObject(params)) throw new CliError('USAGE', '--params must be a JSON object')
  return {
    url: checkUrl(url),
    path,
    segments: segmentsOf(path),
    input: input === undefined ? undefined : parseJsonArgument(input, 'the input'),
    params,
    json: values.json === true,
  }
}

function checkUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new CliError('USAGE', `"${url}" is not a URL: give the server's ws:// or wss:// URL, path included (ws://localhost:3000/rpc)`)
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new CliError('USAGE', `"${url}" is not a ws:// or wss:// URL`)
  }
  return url
}

/** `post.add` -> `['post', 'add']`. Keys starting with `$` are reserved on the client proxy (and refused by the router builder). */
function segmentsOf(path: string): string[] {
  const segments = path.split('.')
  for (const segment of segments) {
    if (segment === '') throw new CliError('USAGE', `"${path}" is not a procedure path: write its keys joined by dots (post.add)`)
    if (segment.startsWith('$')) throw new CliError('USAGE', `"${path}": keys starting with "$" are reserved and no procedure has one`)
  }
  return segments
}

function timeout(text: string): number {
  const value = Number(text)
  if (!/^\d+$/.test(text) || value < 1 || value > MAX_TIMEOUT_MS) {
    throw new CliError('USAGE', `--timeout must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, got "${text}"`)
  }
  return value
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
