import { join } from 'node:path'
import ts from 'typescript'
import { compilerOptions } from './compile-blocks'
import { repoRoot } from './markdown'

/** A property of an options type, as the compiler sees it. */
export interface Member {
  name: string
  /** The text of its `@default` TSDoc tag, if it has one. */
  defaultTag: string | undefined
}

/**
 * Reads the properties of types from the packages' sources. Types are
 * written against three namespaces, `core`, `server` and `client` (the
 * packages' entry points): `server.RpcServerOptions<core.AnyRouter>`.
 * One program for all of them.
 */
export function optionTypes(types: readonly string[]): (type: string, path?: readonly string[]) => Member[] {
  const options = compilerOptions()
  const file = join(repoRoot, 'tests/docs/__option-types.ts')
  const text = [
    `import type * as core from '@wirecall/core'`,
    `import type * as server from '@wirecall/server'`,
    `import type * as client from '@wirecall/client'`,
    ...types.map((type, i) => `export type T${i} = ${type}`),
  ].join('\n')
  const base = ts.createCompilerHost(options, true)
  const host: ts.CompilerHost = {
    ...base,
    fileExists: (name) => name === file || base.fileExists(name),
    readFile: (name) => (name === file ? text : base.readFile(name)),
    getSourceFile: (name, language, onError, shouldCreate) =>
      name === file ? ts.createSourceFile(name, text, language, true) : base.getSourceFile(name, language, onError, shouldCreate),
  }
  const program = ts.createProgram({ rootNames: [file], options, host })
  const problems = program.getSemanticDiagnostics(program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
  if (problems.length > 0) throw new Error(`option types that do not compile:\n${problems.join('\n')}`)
  const checker = program.getTypeChecker()
  const aliases = program.getSourceFile(file)!.statements.filter(ts.isTypeAliasDeclaration)

  /** The object types a property can hold: `KeepAliveOptions | false` gives KeepAliveOptions. */
  const objectParts = (type: ts.Type): ts.Type[] =>
    (type.isUnion() ? type.types : [type]).filter((part) => (part.flags & ts.TypeFlags.Object) !== 0)

  return (type, path = []) => {
    const index = types.indexOf(type)
    if (index === -1) throw new Error(`${type} was not passed to optionTypes()`)
    let current = [checker.getTypeAtLocation(aliases[index]!.name)]
    for (const segment of path) {
      current = current.flatMap((t) => {
        const property = t.getProperty(segment)
        return property ? objectParts(checker.getNonNullableType(checker.getTypeOfSymbol(property))) : []
      })
      if (current.length === 0) throw new Error(`${type} has no object property at ${path.join('.')}`)
    }
    const members = new Map<string, Member>()
    for (const t of current) {
      for (const property of checker.getPropertiesOfType(t)) {
        const tag = property.getJsDocTags(checker).find((tag) => tag.name === 'default')
        members.set(property.name, { name: property.name, defaultTag: tag?.text ? ts.displayPartsToString(tag.text).trim() : undefined })
      }
    }
    return [...members.values()]
  }
}
