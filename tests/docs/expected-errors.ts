import type { BlockDiagnostic } from './compile-blocks'

/**
 * A block fenced ```` ```ts expect-error ```` shows code that must NOT
 * compile (a typo the compiler catches, a context a router lacks). It is
 * checked both ways: every line marked as an error has a compile error,
 * and no other line has one. A line is marked by
 *
 * - a trailing `// error...` comment: `api.notes.add.query({ text: 'x' })   // error: notes.add is a mutation`;
 * - or a comment line of squiggles right below it, whose text, if any, must
 *   be part of the compiler's message, and whose `~` must cover the
 *   error's start:
 *
 *   ```
 *   base.router({ count })
 *   //            ~~~~~ Property 'db' is missing in type '{}'
 *   ```
 */

interface Mark {
  /** Columns the squiggles cover on the marked line, and the text after them. */
  squiggle?: { from: number; to: number; text: string }
}

function marks(code: string): Map<number, Mark> {
  const lines = code.split('\n')
  const found = new Map<number, Mark>()
  lines.forEach((line, i) => {
    if (/\S.*\/\/\s*error\b/.test(line)) found.set(i, {})
    const squiggle = /^(\s*\/\/\s*)(~+)\s*(.*)$/.exec(line)
    if (squiggle && i > 0) {
      const from = squiggle[1]!.length
      found.set(i - 1, { squiggle: { from, to: from + squiggle[2]!.length, text: squiggle[3]!.trim() } })
    }
  })
  return found
}

// Compiler messages quote string literal types with escapes (`\"$connection\"`); the docs show them as an editor renders the type.
const oneLine = (text: string) => text.replace(/\\"/g, '"').replace(/\s+/g, ' ')

/** What is wrong with an expect-error block, given its diagnostics: one message per problem, empty when it is right. */
export function checkExpectedErrors(code: string, diagnostics: BlockDiagnostic[], pageLine: (blockLine: number) => string): string[] {
  const expected = marks(code)
  const problems: string[] = []
  if (expected.size === 0) problems.push(`${pageLine(0)}: an expect-error block marks no line (\`// error\` or a \`// ~~~\` line below)`)
  for (const d of diagnostics) {
    if (!expected.has(d.blockLine)) problems.push(`${pageLine(d.blockLine)}: TS${d.code} on a line not marked as an error: ${d.message}`)
  }
  for (const [line, mark] of expected) {
    const here = diagnostics.filter((d) => d.blockLine === line)
    if (here.length === 0) {
      problems.push(`${pageLine(line)}: marked as a compile error, but it compiles`)
      continue
    }
    const squiggle = mark.squiggle
    if (squiggle === undefined) continue
    const matching = here.some((d) => d.column >= squiggle.from && d.column < squiggle.to && oneLine(d.message).includes(oneLine(squiggle.text)))
    if (!matching) {
      const got = here.map((d) => `column ${d.column + 1}: ${oneLine(d.message)}`).join('; ')
      problems.push(`${pageLine(line)}: expected "${squiggle.text}" under columns ${squiggle.from + 1}-${squiggle.to}, got ${got}`)
    }
  }
  return problems
}
