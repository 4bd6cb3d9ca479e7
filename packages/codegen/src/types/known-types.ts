import type * as TS from 'typescript'
import { RICH_NAMES, type RichName } from '../model/type-model'
import type { TypeScriptApi } from './load-typescript'

/** The rich types the serializer carries, as the lib's global declarations name them. */
const RICH: ReadonlySet<string> = new Set<RichName>(RICH_NAMES)

/**
 * True when a declaration is global: in a script (a lib file, or
 * `@types/node`'s globals) or inside `declare global { … }`. A user's own
 * `interface Date` in a module is not, so it is walked as what it is.
 */
function isGlobalDeclaration(ts: TypeScriptApi, declaration: TS.Node): boolean {
  for (let node: TS.Node | undefined = declaration.parent; node !== undefined; node = node.parent) {
    if (ts.isModuleDeclaration(node)) return (node.flags & ts.NodeFlags.GlobalAugmentation) !== 0
    if (ts.isSourceFile(node)) return !ts.isExternalModule(node)
  }
  return false
}

/** The lib's own errors: the serializer sends each as an `Error` (name and message), and revives it as one. */
const LIB_ERRORS: ReadonlySet<string> = new Set(['EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError', 'AggregateError'])

/** The rich type a type is an instance of, when it is one of the lib's globals. */
export function richNameOf(ts: TypeScriptApi, type: TS.Type): RichName | undefined {
  const symbol = type.getSymbol()
  if (symbol === undefined || !(RICH.has(symbol.name) || LIB_ERRORS.has(symbol.name))) return undefined
  const declarations = symbol.declarations ?? []
  if (declarations.length === 0 || !declarations.every((d) => isGlobalDeclaration(ts, d))) return undefined
  return LIB_ERRORS.has(symbol.name) ? 'Error' : (symbol.name as RichName)
}

/** True when every declaration of a symbol is in one of the TypeScript lib files. */
export function isLibSymbol(program: TS.Program, symbol: TS.Symbol): boolean {
  const declarations = symbol.declarations ?? []
  return declarations.length > 0 && declarations.every((d) => program.isSourceFileDefaultLibrary(d.getSourceFile()))
}

/**
 * True for wirecall's `ResyncSignal` (core's tracked.ts, or its bundled
 * `.d.ts`): told by its declaration, an interface of that name branded with
 * core's `resyncBrand` unique symbol, not by its name alone.
 */
export function isResyncSignal(ts: TypeScriptApi, type: TS.Type): boolean {
  const symbol = type.getSymbol()
  if (symbol === undefined || symbol.name !== 'ResyncSignal') return false
  const declaration = symbol.declarations?.[0]
  if (declaration === undefined || !ts.isInterfaceDeclaration(declaration)) return false
  return declaration.members.some(
    (member) =>
      member.name !== undefined &&
      ts.isComputedPropertyName(member.name) &&
      ts.isIdentifier(member.name.expression) &&
      member.name.expression.text === 'resyncBrand',
  )
}
