import { isDeepStrictEqual } from 'node:util'
import { describe, expect, it } from 'vitest'
import { clientDefaults } from '@wirecall/client'
import { payloadLimitDefaults } from '@wirecall/core'
import { idempotencyDefaults, serverDefaults } from '@wirecall/server'
import { NOT_A_LITERAL, parseLiteral } from './literal'
import { tables, type Table } from './markdown'
import { optionTypes } from './option-types'

/**
 * The tables of the docs that list the properties of a type (options,
 * resolver fields, connection members, events) list exactly its
 * properties, read from the packages' sources with the compiler; and where
 * they have a default column, it matches the code:
 *
 * - a cell that is a literal in code (`30_000`, `{ intervalMs: 30_000, ... }`,
 *   `'/'`) equals the value in the exported defaults object (`serverDefaults`,
 *   `clientDefaults`...), or, for a property that none of them holds, the
 *   value of its `@default` TSDoc tag;
 * - a cell in words ("required", "none", "off", "every origin") is for a
 *   property that has no such value: none in the defaults objects, and no
 *   literal `@default`.
 */

interface TableSpec {
  page: string
  /** The heading the table sits under. */
  heading: string
  /** The header of the column that names the properties; also tells two tables under one heading apart. */
  keyColumn: string
  /** The type, written against the `core`, `server` and `client` namespaces (see option-types.ts). */
  type: string
  /** Property names are written `prefix.name` (`reconnect.minDelayMs`). */
  prefix?: string
  /** The exported defaults of the type's properties, where the code has them. */
  defaults?: Readonly<Record<string, unknown>>
  /** A summary that names some properties (at any depth: `backpressure.maxBufferedAmount`), not all. */
  summary?: boolean
}

/** What the server applies when an option is left out: serverDefaults, and the two objects exported beside it. */
const serverOptionDefaults = { ...serverDefaults, idempotency: idempotencyDefaults, payloadLimits: payloadLimitDefaults }

const specs: TableSpec[] = [
  { page: 'docs/server.md', heading: 'Options', keyColumn: 'option', type: 'server.RpcServerOptions<core.AnyRouter>', defaults: serverOptionDefaults },
  { page: 'docs/server.md', heading: '`listen`: a port of its own', keyColumn: 'option', type: 'server.ListenOptions' },
  { page: 'docs/server.md', heading: 'Errors and logging', keyColumn: 'field', type: 'server.ErrorHandlerOptions' },
  { page: 'docs/errors.md', heading: 'Log errors on the server with `onError`', keyColumn: 'field', type: 'server.ErrorHandlerOptions' },
  { page: 'docs/security.md', heading: 'Every limit', keyColumn: 'option', type: 'server.RpcServerOptions<core.AnyRouter>', defaults: serverOptionDefaults, summary: true },
  { page: 'docs/security.md', heading: 'Backpressure: slow readers', keyColumn: 'option', type: 'server.BackpressureOptions', prefix: 'backpressure', defaults: serverDefaults.backpressure },
  { page: 'docs/reconnect.md', heading: 'Idempotent mutations', keyColumn: 'option', type: 'server.IdempotencyOptions', prefix: 'idempotency', defaults: idempotencyDefaults },
  { page: 'docs/client.md', heading: 'Options', keyColumn: 'option', type: 'client.RpcClientOptions', defaults: clientDefaults },
  { page: 'docs/client.md', heading: 'The connection: `api.$connection`', keyColumn: 'member', type: 'client.ConnectionHandle' },
  { page: 'docs/client.md', heading: 'Events', keyColumn: 'event', type: 'client.ConnectionEvents' },
  { page: 'docs/reconnect.md', heading: 'Reconnecting', keyColumn: 'option', type: 'client.ReconnectOptions', prefix: 'reconnect', defaults: clientDefaults.reconnect },
  { page: 'docs/reconnect.md', heading: 'What happens to each operation', keyColumn: 'option', type: 'client.OfflineQueueOptions', prefix: 'offlineQueue', defaults: clientDefaults.offlineQueue },
  { page: 'docs/reconnect.md', heading: 'Watching the connection', keyColumn: 'event', type: 'client.ConnectionEvents' },
  { page: 'docs/subscriptions.md', heading: 'Callbacks', keyColumn: 'option', type: 'client.SubscriptionHandlers<unknown> & client.SubscribeOptions' },
  { page: 'docs/subscriptions.md', heading: 'Callbacks', keyColumn: 'member', type: 'client.Subscription' },
  { page: 'docs/subscriptions.md', heading: 'Writing a subscription', keyColumn: 'field', type: 'core.SubscriptionResolverOptions<unknown, unknown>' },
  { page: 'docs/subscriptions.md', heading: 'Channels', keyColumn: 'option', type: 'core.ChannelOptions' },
  { page: 'docs/subscriptions.md', heading: 'The rest of the API', keyColumn: 'member', type: 'core.Channel<unknown>' },
  { page: 'docs/routers.md', heading: 'Create the builders', keyColumn: '', type: 'core.RpcInstance<{}>', prefix: 'rpc' },
  { page: 'docs/routers.md', heading: 'Resolvers', keyColumn: 'field', type: 'core.ResolverOptions<unknown, unknown>' },
  { page: 'docs/routers.md', heading: 'Middleware', keyColumn: 'field', type: 'core.MiddlewareOptions<unknown>' },
]

const members = optionTypes([...new Set(specs.map((spec) => spec.type))])

function findTable(spec: TableSpec): Table {
  const found = tables(spec.page).filter((t) => t.heading === spec.heading && t.header.includes(spec.keyColumn))
  if (found.length !== 1) throw new Error(`${spec.page}: expected one table with a "${spec.keyColumn}" column under "${spec.heading}", found ${found.length}`)
  return found[0]!
}

/** The code spans of a cell: `` `a`, `b` `` gives ['a', 'b']. */
const codeSpans = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)

/**
 * The property a row names: `reconnect.minDelayMs` gives minDelayMs,
 * `onData(event)` gives onData. A span with a colon or `=` shows a value
 * (`reconnect: false`), not a property: the row is skipped.
 */
function rowKeys(spec: TableSpec, cell: string): string[] | 'a value' {
  const spans = codeSpans(cell)
  if (spans.some((span) => /[:=]/.test(span))) return 'a value'
  return spans.map((span) => {
    const name = span.replace(/\(.*\)$/, '')
    if (spec.prefix === undefined) return name
    if (!name.startsWith(`${spec.prefix}.`)) throw new Error(`"${span}" does not start with "${spec.prefix}."`)
    return name.slice(spec.prefix.length + 1)
  })
}

/** The literal at the start of a `@default` tag: `1_048_576 (1 MiB)` gives 1048576; words give NOT_A_LITERAL. */
function tagLiteral(tag: string): unknown {
  const bracketed = /^[[{]/.test(tag)
  let end = bracketed ? 0 : tag.search(/\s|$/)
  if (bracketed) {
    let depth = 0
    for (; end < tag.length; end++) {
      if ('[{'.includes(tag[end]!)) depth++
      if (']}'.includes(tag[end]!) && --depth === 0) break
    }
    end++
  }
  return parseLiteral(tag.slice(0, end))
}

const show = (value: unknown) => (value === undefined ? 'undefined' : JSON.stringify(value, (_, v: unknown) => (v === Infinity ? 'Infinity' : v)))

const get = (object: unknown, path: readonly string[]): unknown =>
  path.reduce<unknown>((at, key) => (at !== null && typeof at === 'object' && Object.hasOwn(at, key) ? (at as Record<string, unknown>)[key] : undefined), object)

/** What is wrong with one default cell, or undefined. */
function checkDefault(spec: TableSpec, path: readonly string[], cell: string): string | undefined {
  const name = path.join('.')
  const inCode = get(spec.defaults, path)
  const tag = members(spec.type, path.slice(0, -1)).find((m) => m.name === path.at(-1))?.defaultTag
  const leading = /^`([^`]+)`/.exec(cell)?.[1]
  const literal = leading === undefined ? NOT_A_LITERAL : parseLiteral(leading)
  if (literal === NOT_A_LITERAL) {
    if (inCode !== undefined) return `\`${name}\`: the default is in words ("${cell}"), but the code has one: \`${show(inCode)}\``
    const tagged = tag === undefined ? NOT_A_LITERAL : tagLiteral(tag)
    if (tagged !== NOT_A_LITERAL && tagged !== undefined) return `\`${name}\`: the default is in words ("${cell}"), but its @default says ${tag}`
    return undefined
  }
  if (inCode !== undefined) return isDeepStrictEqual(literal, inCode) ? undefined : `\`${name}\`: the docs say ${show(literal)}, the defaults object ${show(inCode)}`
  if (tag === undefined) return `\`${name}\`: the docs say ${show(literal)}, and neither a defaults object nor a @default tag says so`
  const tagged = tagLiteral(tag)
  return isDeepStrictEqual(literal, tagged) ? undefined : `\`${name}\`: the docs say ${show(literal)}, its @default says ${tag}`
}

describe('tables of the docs that list a type', () => {
  for (const spec of specs) {
    it(`${spec.page}, "${spec.heading}": ${spec.summary ? 'names real options' : `lists exactly the properties of ${spec.type}`}${spec.defaults ? ', with their defaults' : ''}`, () => {
      const table = findTable(spec)
      const keyColumn = table.header.indexOf(spec.keyColumn)
      const defaultColumn = table.header.indexOf('default')
      const problems: string[] = []
      const listed: string[] = []
      for (const row of table.rows) {
        const keys = rowKeys(spec, row.cells[keyColumn] ?? '')
        if (keys === 'a value') continue
        if (keys.length === 0) {
          if (!spec.summary) problems.push(`line ${row.line}: no \`property\` in the "${spec.keyColumn}" cell`)
          continue
        }
        listed.push(...keys)
        if (defaultColumn === -1) continue
        const cell = row.cells[defaultColumn] ?? ''
        if (cell === '' && spec.summary) continue
        for (const key of keys) {
          const path = key.split('.')
          if (spec.summary && !members(spec.type, path.slice(0, -1)).some((m) => m.name === path.at(-1))) {
            problems.push(`line ${row.line}: \`${key}\` is not an option of ${spec.type}`)
            continue
          }
          const problem = checkDefault(spec, path, cell)
          if (problem) problems.push(`line ${row.line}: ${problem}`)
        }
      }
      if (!spec.summary) {
        const actual = members(spec.type).map((m) => m.name)
        const missing = actual.filter((name) => !listed.includes(name))
        const extra = listed.filter((name) => !actual.includes(name))
        const twice = listed.filter((name, i) => listed.indexOf(name) !== i)
        if (missing.length > 0) problems.push(`missing from the table: ${missing.join(', ')}`)
        if (extra.length > 0) problems.push(`not in ${spec.type}: ${extra.join(', ')}`)
        if (twice.length > 0) problems.push(`listed twice: ${twice.join(', ')}`)
      }
      expect(problems, `${spec.page}:${table.line}`).toEqual([])
    })
  }

  it('docs/reconnect.md, "Heartbeats and dead links": each side\'s keepAlive default is its defaults object\'s', () => {
    const table = tables('docs/reconnect.md').find((t) => t.heading === 'Heartbeats and dead links' && t.header[0] === 'side')!
    const defaults = Object.fromEntries(table.rows.map((row) => [row.cells[0], parseLiteral(codeSpans(row.cells[2]!)[0] ?? '')]))
    expect(defaults).toEqual({ server: serverDefaults.keepAlive, client: clientDefaults.keepAlive })
  })
})
