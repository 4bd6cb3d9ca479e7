import { dirname, join } from 'node:path'
import ts from 'typescript'
import { pageModules, type BlockModule, type PageModules } from './block-modules'
import { repoRoot } from './markdown'

/** A compiler message about a block, placed on its page. */
export interface BlockDiagnostic {
  module: BlockModule
  /** 1-based line on the page; for the appended prelude import, the block's closing fence. */
  line: number
  /** 0-based column within the block's line. */
  column: number
  /** The line within the block, 0-based. */
  blockLine: number
  code: number
  message: string
}

export interface CompiledDocs {
  pages: PageModules[]
  diagnostics: BlockDiagnostic[]
  /** Messages that belong to no block: options, preludes, fixtures. */
  other: string[]
}

/**
 * Third-party packages the docs import resolve from the repository root
 * first, then from the workspace package that installs the frameworks the
 * docs mount on (express, fastify, koa, hono): the same packages, at the
 * same versions, that tests/frameworks runs the framework pages against.
 */
const resolveFrom = [undefined, join(repoRoot, 'tests/frameworks/docs.ts')]

/** The repository's compiler options (tsconfig.json: strict, paths to the packages' sources), for a program that emits nothing. */
export function compilerOptions(): ts.CompilerOptions {
  const file = join(repoRoot, 'tsconfig.json')
  const config = ts.readConfigFile(file, ts.sys.readFile)
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'))
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, repoRoot, undefined, file)
  return {
    ...parsed.options,
    noEmit: true,
    declaration: false,
    sourceMap: false,
    // Every block is a module, even one without import or export: its names stay its own.
    moduleDetection: ts.ModuleDetectionKind.Force,
  }
}

const message = (d: ts.Diagnostic) => ts.flattenDiagnosticMessageText(d.messageText, '\n')

function where(d: ts.Diagnostic): string {
  if (!d.file || d.start === undefined) return ''
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start)
  return `${d.file.fileName.replace(repoRoot, '')}:${line + 1}:${character + 1}: `
}

/** Compiles every ts block of `pages` in one program (one checker for all: seconds, not a minute). */
export function compileDocs(pages: string[]): CompiledDocs {
  const options = compilerOptions()
  const modules = pages.map(pageModules)
  const virtual = new Map<string, string>()
  const blockOf = new Map<string, { module: BlockModule; page: PageModules }>()
  for (const page of modules) {
    for (const module of page.blocks) {
      if (module.kind === 'not-compiled') continue
      virtual.set(module.fileName, module.text)
      blockOf.set(module.fileName, { module, page })
    }
    for (const context of page.contexts) virtual.set(context.fileName, context.text)
  }
  const virtualDirs = new Set<string>()
  for (const file of virtual.keys()) for (let dir = dirname(file); dir.length > repoRoot.length; dir = dirname(dir)) virtualDirs.add(dir)

  const base = ts.createCompilerHost(options, true)
  const host: ts.CompilerHost = {
    ...base,
    fileExists: (file) => virtual.has(file) || base.fileExists(file),
    readFile: (file) => virtual.get(file) ?? base.readFile(file),
    directoryExists: (dir) => virtualDirs.has(dir) || (base.directoryExists?.(dir) ?? true),
    getSourceFile: (file, language, onError, shouldCreate) => {
      const text = virtual.get(file)
      return text === undefined ? base.getSourceFile(file, language, onError, shouldCreate) : ts.createSourceFile(file, text, language, true)
    },
  }
  const cache = ts.createModuleResolutionCache(repoRoot, (file) => file, options)
  const resolve = (spec: string, from: string): ts.ResolvedModuleFull | undefined => {
    const block = blockOf.get(from)
    if (block && spec.startsWith('.')) {
      const target = block.page.resolveRelative(block.module, spec)
      return target === undefined
        ? undefined
        : { resolvedFileName: target, extension: target.endsWith('.tsx') ? ts.Extension.Tsx : ts.Extension.Ts, isExternalLibraryImport: false }
    }
    for (const anchor of virtual.has(from) && !spec.startsWith('.') ? resolveFrom : [undefined]) {
      const found = ts.resolveModuleName(spec, anchor ?? from, options, host, cache).resolvedModule
      if (found) return found
    }
    return undefined
  }
  host.resolveModuleNameLiterals = (literals, containingFile) => literals.map((literal) => ({ resolvedModule: resolve(literal.text, containingFile) }))

  const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host })

  const diagnostics: BlockDiagnostic[] = []
  const other: string[] = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()].map((d) => where(d) + message(d))
  for (const { module } of blockOf.values()) {
    const file = program.getSourceFile(module.fileName)!
    const blockLines = module.block.code.split('\n').length
    for (const d of [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]) {
      const { line, character } = file.getLineAndCharacterOfPosition(d.start ?? 0)
      const inBlock = line < blockLines
      diagnostics.push({
        module,
        line: inBlock ? module.block.line + 1 + line : module.block.line + blockLines + 1,
        column: character,
        blockLine: line,
        code: d.code,
        message: inBlock ? message(d) : `in the import of its page's names (tests/docs/preludes): ${message(d)}`,
      })
    }
  }
  const ours = join(repoRoot, 'tests/docs')
  for (const file of program.getSourceFiles()) {
    const mine = (file.fileName.startsWith(ours) || virtual.has(file.fileName)) && !blockOf.has(file.fileName)
    if (mine) other.push(...program.getSemanticDiagnostics(file).map((d) => where(d) + message(d)))
  }
  return { pages: modules, diagnostics, other }
}
