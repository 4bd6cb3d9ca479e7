import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

/**
 * docs/reconnect.md promises that every cell of its "what the caller sees"
 * table is a test: `reconnect matrix › <column> › <row>`. This keeps the
 * promise: a cell without a test, or a test renamed away from its cell,
 * fails here.
 */

const doc = readFileSync(new URL('../../docs/reconnect.md', import.meta.url), 'utf8')
const matrix = readFileSync(new URL('../integration/reconnect/reconnect-matrix.test.ts', import.meta.url), 'utf8')

/** The table under "## What the caller sees": its column headers and its bold row names. */
function callerTable(): { columns: string[]; rows: string[] } {
  const section = doc.split('## What the caller sees')[1]!.split('\n## ')[0]!
  const lines = section.split('\n').filter((line) => line.startsWith('|'))
  const cells = (line: string) => line.split('|').slice(1, -1).map((cell) => cell.trim())
  const columns = cells(lines[0]!).slice(1)
  const rows = lines.slice(2).map((line) => cells(line)[0]!.replace(/\*\*/g, ''))
  return { columns, rows }
}

/** The source of `describe('<name>', ...)` up to the next describe at the same depth (or the end). */
function describeBlock(name: string): string | undefined {
  const start = matrix.indexOf(`describe('${name}'`)
  if (start === -1) return undefined
  const next = matrix.indexOf("\n  describe('", start + 1)
  return matrix.slice(start, next === -1 ? undefined : next)
}

describe('docs/reconnect.md: the operation × failure table', () => {
  const { columns, rows } = callerTable()

  it('has the six failures and five operations the guide describes', () => {
    expect(columns).toEqual(['clean close', 'deploy restart', 'network drop', 'half-open link', 'auth rejected', 'server gone for good'])
    expect(rows).toEqual(['query in flight', 'mutation in flight', 'idempotent mutation in flight', 'subscription', 'queued call'])
    expect(matrix).toContain("describe('reconnect matrix'")
  })

  for (const column of columns) {
    it(`every cell of "${column}" names a test in reconnect-matrix.test.ts`, () => {
      const block = describeBlock(column)
      expect(block, `describe('${column}') in reconnect-matrix.test.ts`).toBeDefined()
      for (const row of rows) expect(block, `it('${row}...') under describe('${column}')`).toContain(`it('${row}:`)
    })
  }
})
