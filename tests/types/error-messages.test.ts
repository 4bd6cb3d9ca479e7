import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { beforeAll, describe, expect, it } from 'vitest'

/**
 * What a user reads when they get wirecall wrong, under both supported
 * compilers. Each file in `fixtures/` is a small mistake made on purpose
 * (its own module, importing the packages' sources by name), compiled with
 * TypeScript 5.9 and TypeScript 7 as `tsc --noEmit --pretty false` prints
 * it; the tests read the first line of each diagnostic, which is what an
 * editor shows first and what a terminal shows without scrolling. The
 * fixtures are left out of the root tsconfig: they are meant not to compile.
 */

const root = fileURLToPath(new URL('../../', import.meta.url))
const fixtureDir = 'tests/types/fixtures'

const COMPILERS = {
  'TypeScript 5.9': 'node_modules/typescript/bin/tsc',
  'TypeScript 7': 'node_modules/typescript-7/bin/tsc',
} as const
type Compiler = keyof typeof COMPILERS

/** One diagnostic: where, its code, its first line, and the lines of its chain after it. */
interface Diagnostic {
  file: string
  line: number
  code: string
  first: string
  chain: string[]
}

function parseDiagnostics(output: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = []
  for (const text of output.split('\n')) {
    const head = /^(.+?)\((\d+),\d+\): error (TS\d+): (.*)$/.exec(text)
    if (head) diagnostics.push({ file: head[1]!.replace(`${fixtureDir}/`, ''), line: Number(head[2]), code: head[3]!, first: head[4]!, chain: [] })
    else if (text.startsWith(' ') && diagnostics.length > 0) diagnostics.at(-1)!.chain.push(text.trim())
  }
  return diagnostics
}

function compile(compiler: Compiler): Promise<{ version: string; diagnostics: Diagnostic[] }> {
  const tsc = COMPILERS[compiler]
  const run = (args: string[]) =>
    new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [tsc, ...args], { cwd: root, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        // tsc exits with 2 when it reports errors, which is the point here.
        if (error && typeof error.code !== 'number') reject(error)
        else if (stderr.trim() !== '') reject(new Error(`${compiler} wrote to stderr: ${stderr}`))
        else resolve(stdout)
      })
    })
  return Promise.all([run(['--version']), run(['-p', fixtureDir, '--noEmit', '--pretty', 'false'])]).then(([version, out]) => ({
    version: version.trim(),
    diagnostics: parseDiagnostics(out),
  }))
}

const results = new Map<Compiler, { version: string; diagnostics: Diagnostic[] }>()

beforeAll(async () => {
  const names = Object.keys(COMPILERS) as Compiler[]
  const outputs = await Promise.all(names.map(compile))
  names.forEach((name, i) => results.set(name, outputs[i]!))
}, 60_000)

function diagnosticsOf(compiler: Compiler, file: string): Diagnostic[] {
  return results.get(compiler)!.diagnostics.filter((d) => d.file === file)
}

/** The one diagnostic of a fixture that has one mistake. */
function only(compiler: Compiler, file: string): Diagnostic {
  const found = diagnosticsOf(compiler, file)
  expect(found.map((d) => `${d.file}:${d.line} ${d.code} ${d.first}`)).toHaveLength(1)
  return found[0]!
}

/** The type printed in "Type '…' is not assignable to type 'number'": what a hover shows. */
function printedType(diagnostic: Diagnostic): string {
  const match = /^Type '(.*)' is not assignable to type 'number'\.$/.exec(diagnostic.first)
  expect(match, diagnostic.first).not.toBeNull()
  return match![1]!
}

/** Names that are the server's or the type machinery's, never the client's shape. */
const INTERNALS = /DecorateRecord|DecorateProcedure|QueryProcedure|MutationProcedure|SubscriptionProcedure|QueryClient|MutationClient|SubscriptionClient|inferRecord|RpcClient<|Router<|\bctx\b/

describe.each(Object.keys(COMPILERS) as Compiler[])('error messages under %s', (compiler) => {
  it('runs the compiler it names', () => {
    expect(results.get(compiler)!.version).toMatch(compiler === 'TypeScript 5.9' ? /^Version 5\.9\./ : /^Version 7\./)
  })

  it('reports nothing outside the fixtures that are wrong on purpose', () => {
    const elsewhere = results.get(compiler)!.diagnostics.filter((d) => d.file.includes('/') || d.file === 'app.ts' || d.file === 'hover-quickinfo.ts')
    expect(elsewhere.map((d) => `${d.file}:${d.line} ${d.code} ${d.first}`)).toEqual([])
  })

  it('forgetting <AppRouter> fails at the call, saying what to write', () => {
    const d = only(compiler, 'missing-router-type.ts')
    expect(d.line).toBe(3)
    expect(d.code).toBe('TS2345')
    expect(d.first).toBe(
      `Argument of type '{ url: string; }' is not assignable to parameter of type 'RpcClientOptions & "pass your router type: createRpcClient<AppRouter>(…)"'.`,
    )
  })

  it("a wrong onData parameter type is reported as the handler's mismatch, never as 'undefined'", () => {
    const d = only(compiler, 'wrong-ondata.ts')
    expect(d.code).toBe('TS2769')
    expect(d.first).toBe('No overload matches this call.')
    const reasons = d.chain.filter((line) => line.startsWith('Type '))
    // TypeScript 5.9 lists both overloads, TypeScript 7 only the last: each says the same.
    expect(reasons.length).toBeGreaterThan(0)
    for (const reason of reasons.filter((line) => line.includes('=>'))) {
      expect(reason).toBe(`Type '(tick: string) => void' is not assignable to type '(data: { n: number; }) => void'.`)
    }
    expect(reasons[0]).toBe(`Type '(tick: string) => void' is not assignable to type '(data: { n: number; }) => void'.`)
    expect(d.chain.join('\n')).not.toContain("type 'undefined'")
  })

  it('a wrong input type points at the field', () => {
    const d = only(compiler, 'wrong-input.ts')
    expect(d.code).toBe('TS2322')
    expect(d.first).toBe(`Type 'number' is not assignable to type 'string'.`)
  })

  it('.mutate on a query names the query’s plain shape', () => {
    const d = only(compiler, 'mutate-on-query.ts')
    expect(d.code).toBe('TS2339')
    expect(d.first).toBe(
      `Property 'mutate' does not exist on type '{ query(input: { name: string; }, options?: CallOptions | undefined): Promise<{ text: string; }>; }'.`,
    )
  })

  it('mounting a router or procedure built for another context names the missing key on the first line', () => {
    const found = diagnosticsOf(compiler, 'context-mismatch.ts')
    expect(found.map((d) => [d.line, d.code])).toEqual([
      [7, 'TS2322'],
      [8, 'TS2322'],
      [9, 'TS2345'],
    ])
    for (const d of found) {
      expect(d.first).toContain(`"needs context key 'db', which this router's context does not have"`)
      expect(d.first).not.toContain('RouterRecordFor')
      expect(d.first).not.toContain('~needs')
    }
    expect(found[0]!.first).toMatch(/^Type 'Router<\{ db: Db; \}, .*' is not assignable to type '"needs context key 'db', which this router's context does not have"'\.$/)
    expect(found[1]!.first).toMatch(/^Type 'QueryProcedure<.*' is not assignable to type '"needs context key 'db', which this router's context does not have"'\.$/)
  })

  it('a context key of another type is named too, even in a nested object', () => {
    const d = only(compiler, 'context-type-mismatch.ts')
    expect(d.code).toBe('TS2322')
    expect(d.first).toMatch(/is not assignable to type '"needs context key 'db' of another type than this router's context has"'\.$/)
  })

  it("createContext missing a key is one sentence, and the next line names the key", () => {
    const d = only(compiler, 'create-context-mismatch.ts')
    expect(d.code).toBe('TS2322')
    expect(d.first).toBe(`Type '{ user: string; }' is not assignable to type 'MaybePromise<{ user: string; db: Db; }>'.`)
    expect(d.chain[0]).toBe(`Property 'db' is missing in type '{ user: string; }' but required in type '{ user: string; db: Db; }'.`)
  })

  it('prints client procedures and namespaces as plain shapes', () => {
    const [procedure, namespace, subscription, client] = diagnosticsOf(compiler, 'hover-client.ts')
    expect(printedType(procedure!)).toBe(`{ query(input: { name: string; }, options?: CallOptions | undefined): Promise<{ text: string; }>; }`)
    expect(printedType(namespace!)).toBe(
      `{ add: { mutate(input: { title: string; }, options?: MutationOptions | undefined): Promise<{ id: number; title: string; }>; }; }`,
    )
    expect(printedType(subscription!)).toMatch(/^\{ subscribe\(input: \{ every: number; \}, handlers: HandlerFormOptions<\{ n: number; \}>\): Subscription; subscribe\(/)
    expect(printedType(client!)).toContain(`greet: { query(input: { name: string; }, options?: CallOptions | undefined): Promise<{ text: string; }>; }`)
    expect(printedType(client!)).toContain('readonly $connection: ConnectionHandle')
    for (const d of [procedure, namespace, subscription, client]) expect(printedType(d!)).not.toMatch(INTERNALS)
  })

  it('prints inferRouterInputs / inferRouterOutputs as plain objects', () => {
    const [outputs, inputs] = diagnosticsOf(compiler, 'hover-inference.ts')
    expect(printedType(outputs!)).toBe(`{ greet: { text: string; }; post: { add: { id: number; title: string; }; }; ticks: { n: number; }; }`)
    expect(printedType(inputs!)).toBe(`{ greet: { name: string; }; post: { add: { title: string; }; }; ticks: { every: number; }; }`)
  })
})

describe('hovers in an editor (TypeScript 5.9 language service)', () => {
  /** The text an editor shows when hovering `name` where it is declared in `hover-quickinfo.ts`. */
  function hover(name: string): string {
    const file = `${root}${fixtureDir}/hover-quickinfo.ts`
    const declaration = new RegExp(`const ${name}\\b`).exec(readFileSync(file, 'utf8'))
    expect(declaration, name).not.toBeNull()
    const info = service.getQuickInfoAtPosition(file, declaration!.index + 'const '.length)
    return ts.displayPartsToString(info?.displayParts)
  }

  let service: ts.LanguageService

  beforeAll(() => {
    const configPath = `${root}${fixtureDir}/tsconfig.json`
    const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!
    const host: ts.LanguageServiceHost = {
      getCompilationSettings: () => config.options,
      getScriptFileNames: () => [`${root}${fixtureDir}/hover-quickinfo.ts`],
      getScriptVersion: () => '1',
      getScriptSnapshot: (name) => (ts.sys.fileExists(name) ? ts.ScriptSnapshot.fromString(ts.sys.readFile(name)!) : undefined),
      getCurrentDirectory: () => root,
      getDefaultLibFileName: (options) => ts.getDefaultLibFilePath(options),
      fileExists: ts.sys.fileExists,
      readFile: ts.sys.readFile,
      readDirectory: ts.sys.readDirectory,
      directoryExists: ts.sys.directoryExists,
      getDirectories: ts.sys.getDirectories,
    }
    service = ts.createLanguageService(host)
  }, 60_000)

  it('shows a namespace of the client as its procedures', () => {
    expect(hover('post')).toBe(
      'const post: {\n    add: {\n        mutate(input: {\n            title: string;\n        }, options?: MutationOptions | undefined): Promise<{\n            id: number;\n            title: string;\n        }>;\n    };\n}',
    )
  })

  it('shows a procedure as its method', () => {
    const text = hover('greet')
    expect(text).toContain('query(input: {')
    expect(text).not.toMatch(INTERNALS)
  })

  it('shows inferRouterOutputs as the outputs', () => {
    const text = hover('outputs')
    expect(text).toContain('greet: {\n        text: string;\n    };')
    expect(text).not.toMatch(INTERNALS)
  })
})
