import { existsSync } from 'node:fs'
import { dirname, join, posix, relative } from 'node:path'
import ts from 'typescript'
import { codeBlocks, repoRoot, type CodeBlock } from './markdown'
import { declaredNames, isExported, preludeExports } from './names'

/**
 * Turns the ```ts and ```tsx blocks of the docs into modules for one compiler
 * program (a ```tsx block is a `.tsx` module: JSX, for React recipes).
 *
 * Every block is a module of its own (`moduleDetection: force`): blocks on a
 * page do not see each other's top-level names, since readers copy one
 * block at a time and most pages reuse names (`api`, `server`) for
 * different things. Two kinds of block:
 *
 * - **A file**: the first line names it (`// server.ts`, `// src/rpc.ts`).
 *   It must compile as it stands, with nothing but its imports. Its relative
 *   imports find the file of that name on the same page (the nearest one
 *   above, else below), so a page that shows `router.ts` then `client.ts`
 *   is checked as the program it describes.
 * - **A fragment**: anything else. It uses names a reader has from the page
 *   around it (`appRouter`, `db`, `api`...), which its page's prelude
 *   declares (`preludes/<page>.ts`, else `preludes/common.ts`); the test
 *   appends one import of them after the block's last line, so line numbers
 *   stay the page's. A fragment below blocks that export `appRouter` gets
 *   `api` (a client of all of them), `appRouter` and `AppRouter` (the
 *   nearest one) from those blocks instead of the prelude: "client code for
 *   an `api` created with `createRpcClient<AppRouter>(...)`" means that router.
 *
 * A relative import that no block on the page provides resolves to
 * `fixtures/<name>.ts`: the module a reader has of their own (`./router`,
 * `./db`), small and typed like the real thing.
 *
 * Fence flags: ```` ```ts not-compiled ```` skips a block that is not a
 * program (a declaration excerpt for reading); ```` ```ts expect-error ````
 * marks a block that shows compile errors on purpose (see expected-errors.ts).
 */

export type BlockKind = 'compiled' | 'expect-error' | 'not-compiled'

export interface BlockModule {
  block: CodeBlock
  kind: BlockKind
  /** Absolute path of the virtual module: `<repo>/<page without .md>/L<line>/<declared path or block.ts>`. */
  fileName: string
  /** The path the block names on its first line, for a file; `undefined` for a fragment. */
  declaredPath: string | undefined
  /** The block, plus the appended import for a fragment. */
  text: string
  /** A fragment's page context, which its appended import names `./__page`. */
  context?: string
}

/** Another virtual module: a fragment's page context (its prelude, with overrides from the page's routers). */
export interface ContextModule {
  fileName: string
  text: string
}

const docsTests = join(repoRoot, 'tests/docs')
const FLAGS = new Set(['not-compiled', 'expect-error'])

function kindOf(block: CodeBlock): BlockKind {
  const unknown = block.flags.filter((flag) => !FLAGS.has(flag))
  if (unknown.length > 0) throw new Error(`${block.page}:${block.line}: unknown fence flag ${unknown.join(' ')} (known: ${[...FLAGS].join(', ')})`)
  if (block.flags.includes('not-compiled')) return 'not-compiled'
  return block.flags.includes('expect-error') ? 'expect-error' : 'compiled'
}

/** `// src/router.ts` or `// page.ts, bundled for the browser` on the first line names the file. */
function declaredPath(code: string): string | undefined {
  return /^\/\/ ((?:[\w@.-]+\/)*[\w@.-]+\.tsx?)\b/.exec(code)?.[1]
}

const withoutExtension = (path: string) => path.replace(/\.(tsx?|jsx?)$/, '')

/**
 * The prelude of a page: `preludes/docs/client.ts` for docs/client.md, else
 * the `common.ts` of the nearest folder (`preludes/docs/frameworks/common.ts`
 * for the framework pages), else `preludes/common.ts`.
 */
export function preludeOf(page: string): string {
  const candidates = [page.replace(/\.md$/, '.ts')]
  for (let dir = posix.dirname(page); dir !== '.'; dir = posix.dirname(dir)) candidates.push(`${dir}/common.ts`)
  candidates.push('common.ts')
  return candidates.map((c) => join(docsTests, 'preludes', c)).find((file) => existsSync(file))!
}

const exportsAppRouter = (source: ts.SourceFile) =>
  source.statements.some(
    (statement) =>
      ts.isVariableStatement(statement) &&
      isExported(statement) &&
      statement.declarationList.declarations.some((d) => ts.isIdentifier(d.name) && d.name.text === 'appRouter'),
  )

/** A relative module specifier from one virtual file to another (or to a real file). */
function specifier(from: string, to: string): string {
  const path = withoutExtension(relative(dirname(from), to))
  return path.startsWith('.') ? path : `./${path}`
}

export interface PageModules {
  blocks: BlockModule[]
  contexts: ContextModule[]
  /** Where a relative import of a block resolves; `undefined` when nothing provides it. */
  resolveRelative(importer: BlockModule, spec: string): string | undefined
}

/** The virtual modules of one page. */
export function pageModules(page: string): PageModules {
  const blocks: BlockModule[] = codeBlocks(page)
    .filter((block) => block.lang === 'ts' || block.lang === 'tsx')
    .map((block) => {
      const declared = declaredPath(block.code)
      return {
        block,
        kind: kindOf(block),
        fileName: join(repoRoot, page.replace(/\.md$/, ''), `L${block.line}`, declared ?? `block.${block.lang}`),
        declaredPath: declared,
        text: block.code,
      }
    })
  const compiled = blocks.filter((m) => m.kind !== 'not-compiled')
  const sources = new Map(compiled.map((m) => [m, ts.createSourceFile(m.fileName, m.text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS)]))
  const routers = compiled.filter((m) => exportsAppRouter(sources.get(m)!))

  const prelude = preludeOf(page)
  const preludeNames = preludeExports(prelude)
  const contexts: ContextModule[] = []
  for (const module of compiled) {
    if (module.declaredPath !== undefined) continue
    const above = routers.filter((r) => r.block.line < module.block.line)
    const context = join(dirname(module.fileName), '__page.ts')
    const lines = [`export * from '${specifier(context, prelude)}'`]
    const names = new Map(preludeNames)
    if (above.length > 0) {
      lines.push(`import type { RpcClient } from '@wirecall/client'`)
      for (const r of above) lines.push(`import type { appRouter as R${r.block.line} } from '${specifier(context, r.fileName)}'`)
      const nearest = above.at(-1)!
      lines.push(
        `export declare const api: ${above.map((r) => `RpcClient<typeof R${r.block.line}>`).join(' & ')}`,
        `export { appRouter } from '${specifier(context, nearest.fileName)}'`,
        `export type AppRouter = typeof R${nearest.block.line}`,
      )
      names.set('api', 'value').set('appRouter', 'value').set('AppRouter', 'type')
    }
    contexts.push({ fileName: context, text: lines.join('\n') + '\n' })
    module.context = context
    const local = declaredNames(sources.get(module)!.statements)
    const imported = [...names].filter(([name]) => !local.has(name)).map(([name, kind]) => (kind === 'type' ? `type ${name}` : name))
    if (imported.length > 0) module.text = `${module.text}\nimport { ${imported.join(', ')} } from './__page'\n`
  }

  function resolveRelative(importer: BlockModule, spec: string): string | undefined {
    if (spec === './__page') return importer.context
    const target = withoutExtension(posix.normalize(posix.join(posix.dirname(importer.declaredPath ?? 'block.ts'), spec)))
    const files = compiled.filter((m) => m !== importer && m.declaredPath !== undefined)
    const nearest = (match: (path: string) => boolean) => {
      const candidates = files.filter((m) => match(withoutExtension(m.declaredPath!)))
      return candidates.filter((m) => m.block.line < importer.block.line).at(-1) ?? candidates[0]
    }
    const found = nearest((path) => path === target) ?? nearest((path) => posix.basename(path) === posix.basename(target))
    if (found) return found.fileName
    const fixture = join(docsTests, 'fixtures', `${posix.basename(target)}.ts`)
    return existsSync(fixture) ? fixture : undefined
  }

  return { blocks, contexts, resolveRelative }
}
