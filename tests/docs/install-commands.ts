import { existsSync, readFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { join, posix } from 'node:path'
import ts from 'typescript'
import { codeBlocks, repoRoot } from './markdown'

/**
 * What a page tells its reader to install, and what its code needs
 * installed; install-lines.test.ts says why and compares the two.
 */

const INSTALL = /^(?:npm (?:install|i|add)|pnpm (?:add|install|i)|yarn add|bun add|deno add)\s+(.*)$/

/** The packages a page's install commands name, without versions or `npm:`. */
export function installed(page: string): Set<string> | undefined {
  const names = new Set<string>()
  let any = false
  for (const block of codeBlocks(page)) {
    if (block.lang !== 'sh') continue
    const commands = block.code.split('\n').flatMap((line) => line.replace(/(^|\s)#.*$/, '').split(/&&|\|\||;/))
    for (const command of commands) {
      const install = INSTALL.exec(command.trim())
      if (!install) continue
      any = true
      for (const word of install[1]!.split(/\s+/)) {
        if (word === '' || word.startsWith('-')) continue
        names.add(word.replace(/^npm:/, '').replace(/(?<=.)@[^/]*$/, ''))
      }
    }
  }
  return any ? names : undefined
}

/** `@scope/name/sub` -> `@scope/name`; `zod/v4` -> `zod`. */
const packageName = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/')

interface Import {
  specifier: string
  typeOnly: boolean
}

function importsOf(code: string, fileName: string): Import[] {
  const source = ts.createSourceFile(fileName, code, ts.ScriptTarget.ES2022, false, fileName.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS)
  const found: Import[] = []
  for (const statement of source.statements) {
    if ((ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)) {
      const clause = ts.isImportDeclaration(statement) ? statement.importClause : undefined
      const typeOnly = ts.isImportDeclaration(statement) ? clause?.isTypeOnly === true : statement.isTypeOnly
      found.push({ specifier: statement.moduleSpecifier.text, typeOnly })
    }
  }
  return found
}

/** The packages a page's code needs: its blocks' imports, and those of the reader's modules it imports for their values. */
export function needed(page: string): Map<string, string> {
  const need = new Map<string, string>() // package -> why
  const seen = new Set<string>()
  const visit = (code: string, where: string) => {
    for (const { specifier, typeOnly } of importsOf(code, where)) {
      if (specifier.startsWith('.')) {
        const fixture = join(repoRoot, 'tests/docs/fixtures', `${posix.basename(specifier).replace(/\.(c|m)?js$/, '')}.ts`)
        const onPage = codeBlocks(page).some((b) => b.code.startsWith(`// ${posix.basename(specifier).replace(/\.(c|m)?js$/, '')}.`))
        if (typeOnly || onPage || !existsSync(fixture) || seen.has(fixture)) continue
        seen.add(fixture)
        visit(readFileSync(fixture, 'utf8'), `${where} -> ${specifier} (the reader's module, tests/docs/fixtures)`)
      } else if (isBuiltin(specifier)) {
        if (!need.has('@types/node')) need.set('@types/node', `${where} imports ${specifier}`)
      } else {
        const name = packageName(specifier)
        if (!need.has(name)) need.set(name, `${where} imports ${specifier}`)
        if (!shipsTypes(name)) {
          const types = `@types/${name.replace(/^@/, '').replace('/', '__')}`
          if (!need.has(types)) need.set(types, `${where} imports ${specifier}, which ships no types`)
        }
      }
    }
  }
  for (const block of codeBlocks(page)) {
    if (block.lang === 'ts' || block.lang === 'tsx') visit(block.code, `${page}:${block.line}`)
  }
  return need
}

/** Where the repository installs the packages the docs import: the root, the framework tests, the packages. */
const anchors = [repoRoot, join(repoRoot, 'tests/frameworks'), join(repoRoot, 'tests/browser'), join(repoRoot, 'packages/tanstack-query')]

function shipsTypes(name: string): boolean {
  const ours = /^@wirecall\/(.+)$/.exec(name)
  const dirs = ours ? [join(repoRoot, 'packages', ours[1]!)] : anchors.map((anchor) => join(anchor, 'node_modules', name))
  const dir = dirs.find((d) => existsSync(join(d, 'package.json')))
  if (dir === undefined) throw new Error(`${name} is not installed in this repository: cannot tell whether it ships types`)
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { types?: string; typings?: string; exports?: unknown }
  return manifest.types !== undefined || manifest.typings !== undefined || JSON.stringify(manifest.exports ?? {}).includes('"types"') || existsSync(join(dir, 'index.d.ts'))
}

