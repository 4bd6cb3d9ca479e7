import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import ts from 'typescript'

/** The names a block declares, and those a prelude offers: read from syntax, before any program exists. */

/** Names a module declares at its top level: imports, variables, functions, classes, types. */
export function declaredNames(statements: readonly ts.Statement[]): Set<string> {
  const names = new Set<string>()
  const bind = (name: ts.BindingName): void => {
    if (ts.isIdentifier(name)) names.add(name.text)
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) bind(element.name)
  }
  for (const statement of statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause
      if (clause?.name) names.add(clause.name.text)
      const bindings = clause?.namedBindings
      if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text)
      if (bindings && ts.isNamedImports(bindings)) for (const element of bindings.elements) names.add(element.name.text)
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) bind(declaration.name)
    } else if (
      (ts.isFunctionDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement) ||
        ts.isModuleDeclaration(statement) ||
        ts.isImportEqualsDeclaration(statement)) &&
      statement.name !== undefined &&
      ts.isIdentifier(statement.name)
    ) {
      names.add(statement.name.text)
    }
  }
  return names
}

export const isExported = (statement: ts.Statement) =>
  ts.canHaveModifiers(statement) && (ts.getModifiers(statement) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)

/**
 * What a prelude exports, and whether each name is a value or only a type,
 * read from its syntax (preludes are written for this: `export declare
 * const`, `export type`, `export { x } from`, `export * from './common'`).
 */
export function preludeExports(file: string): Map<string, 'value' | 'type'> {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS)
  const names = new Map<string, 'value' | 'type'>()
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      const from = statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier) ? statement.moduleSpecifier.text : undefined
      if (statement.exportClause === undefined) {
        if (from === undefined || !from.startsWith('.')) throw new Error(`${file}: export * only from a relative module`)
        for (const [name, kind] of preludeExports(join(dirname(file), `${from}.ts`))) if (!names.has(name)) names.set(name, kind)
      } else if (ts.isNamedExports(statement.exportClause)) {
        for (const element of statement.exportClause.elements) {
          names.set(element.name.text, statement.isTypeOnly || element.isTypeOnly ? 'type' : 'value')
        }
      }
      continue
    }
    if (!isExported(statement)) continue
    if (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) names.set(statement.name.text, 'type')
    else for (const name of declaredNames([statement])) names.set(name, 'value')
  }
  return names
}
