import { CliError } from '../cli-error'
import { findJsonSyntaxProblem } from './json-syntax'

/**
 * Parses a JSON command-line argument (`what` names it in the message:
 * "the input", "--params"). Invalid JSON is a `USAGE` error that names the
 * position, its line and column when the text has several lines, and shows
 * the text around it, so a shell-quoting slip is found at a glance.
 */
export function parseJsonArgument(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (cause) {
    const found = findJsonSyntaxProblem(text)
    if (found === undefined) {
      // The scanner accepts exactly JSON, so this is a text nested past its depth bound; V8's message is all there is.
      throw new CliError('USAGE', `${what} is not valid JSON: ${cause instanceof Error ? cause.message : String(cause)}`)
    }
    throw new CliError('USAGE', `${what} is not valid JSON: ${found.problem} at ${where(text, found.position)}`)
  }
}

/** `position 8 (near {"name":▸})`, with `line 2, column 3` for a text of several lines. */
function where(text: string, position: number): string {
  const before = text.slice(0, position)
  const lines = before.split('\n')
  const lineAndColumn = text.includes('\n') ? `, line ${lines.length}, column ${lines[lines.length - 1]!.length + 1}` : ''
  const head = before.length > 24 ? `…${before.slice(-24)}` : before
  const rest = text.slice(position, position + 16)
  const tail = position + 16 < text.length ? `${rest}…` : rest
  return `position ${position}${lineAndColumn}: ${oneLine(head)}▸${oneLine(tail)}`
}

function oneLine(text: string): string {
  return text.replace(/\r?\n/g, '⏎')
}
