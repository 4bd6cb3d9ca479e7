import ts from 'typescript'

/** What {@link parseLiteral} returns for text that is not a literal. */
export const NOT_A_LITERAL: unique symbol = Symbol('not a literal')

/**
 * Reads a JavaScript literal as the docs write one (`30_000`,
 * `{ intervalMs: 30_000, timeoutMs: 10_000 }`, `'/'`, `[]`, `Infinity`)
 * without evaluating anything: numbers, strings, booleans, `null`,
 * `undefined`, `Infinity`, `NaN`, and arrays and objects of those.
 * Anything else (`compactSerializer`, `globalThis.WebSocket`, prose) is
 * {@link NOT_A_LITERAL}.
 */
export function parseLiteral(text: string): unknown {
  const source = ts.createSourceFile('cell.ts', `(${text})`, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS)
  const diagnostics = (source as unknown as { parseDiagnostics: readonly ts.Diagnostic[] }).parseDiagnostics
  const statement = source.statements[0]
  if (diagnostics.length > 0 || source.statements.length !== 1 || !statement || !ts.isExpressionStatement(statement)) return NOT_A_LITERAL
  try {
    return value(statement.expression)
  } catch {
    return NOT_A_LITERAL
  }
}

function value(node: ts.Expression): unknown {
  if (ts.isParenthesizedExpression(node)) return value(node.expression)
  if (ts.isNumericLiteral(node)) return Number(node.text)
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text
  if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.MinusToken) return -(value(node.operand) as number)
  if (node.kind === ts.SyntaxKind.TrueKeyword) return true
  if (node.kind === ts.SyntaxKind.FalseKeyword) return false
  if (node.kind === ts.SyntaxKind.NullKeyword) return null
  if (ts.isIdentifier(node)) {
    const known: Record<string, unknown> = { undefined, Infinity, NaN }
    if (Object.hasOwn(known, node.text)) return known[node.text]
  }
  if (ts.isArrayLiteralExpression(node)) return node.elements.map(value)
  if (ts.isObjectLiteralExpression(node)) {
    const object: Record<string, unknown> = {}
    for (const property of node.properties) {
      if (!ts.isPropertyAssignment(property) || !(ts.isIdentifier(property.name) || ts.isStringLiteral(property.name))) throw new Error('not a literal')
      object[property.name.text] = value(property.initializer)
    }
    return object
  }
  throw new Error('not a literal')
}
