import type * as TS from 'typescript'
import { CliError } from '../cli-error'
import type { RouterSpec } from '../load/router-spec'
import type { TypeScriptApi } from './load-typescript'

/** True when the checker sees a wirecall router: `'~wirecall': 'router'`. */
export function isRouterType(checker: TS.TypeChecker, type: TS.Type): boolean {
  const brand = type.getProperty('~wirecall')
  if (brand === undefined) return false
  const value = checker.getTypeOfSymbol(brand)
  return (value as Partial<TS.StringLiteralType>).value === 'router'
}

function typeOfExport(ts: TypeScriptApi, checker: TS.TypeChecker, symbol: TS.Symbol): TS.Type {
  const declaration = symbol.declarations?.[0]
  // `export default rpc.router({...})`: the type of the expression.
  if (declaration !== undefined && ts.isExportAssignment(declaration)) return checker.getTypeAtLocation(declaration.expression)
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
  return checker.getTypeOfSymbol(target)
}

/**
 * The router's type, found by the rule `loadRouter` follows: the named
 * export; for `default` when there is none, the only export that is a router.
 */
export function findRouterType(ts: TypeScriptApi, program: TS.Program, spec: RouterSpec): TS.Type {
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(spec.file)
  if (source === undefined) throw new CliError('LOAD', `--router: no file ${spec.file}`)
  const moduleSymbol = checker.getSymbolAtLocation(source)
  const exports = moduleSymbol === undefined ? [] : checker.getExportsOfModule(moduleSymbol)
  const named = exports.find((symbol) => symbol.name === spec.exportName)
  if (named !== undefined) {
    // Only the named export's type: asking for every export's would infer each of them.
    const type = typeOfExport(ts, checker, named)
    if (isRouterType(checker, type)) return type
  }
  const routers = exports.filter((symbol) => isRouterType(checker, typeOfExport(ts, checker, symbol)))
  if (named === undefined && spec.exportName === 'default' && routers.length === 1) return typeOfExport(ts, checker, routers[0]!)
  const found = routers.length === 0 ? 'it exports no router' : `its routers are: ${routers.map((r) => r.name).join(', ')}`
  throw new CliError('LOAD', `--router: ${spec.file} has no router exported as "${spec.exportName}" (${found}); write --router <file>#<export>`)
}
