import { PROCEDURES, ROUTERS, SUB_ROUTERS, planProcedures, type PlannedProcedure } from './plan'

/**
 * The source files of the generated project for one library: the planned
 * API as a server router (one file per top-level router, as an app splits
 * it), and a client file that calls every procedure with a typed input and
 * reads a typed field of every result.
 *
 * wirecall's builder API is modelled on tRPC's, so both are written the
 * way each library's docs write them and differ only in the builder setup
 * and the client setup below.
 */

/**
 * The libraries the type-check benchmark compares, and `zodOnly`: the same
 * schemas and resolvers with no RPC library (see zodOnlyFiles), the floor
 * that any zod-based typed RPC pays.
 */
export type TypecheckLib = 'wirecall' | 'trpc' | 'zodOnly'

/** The RPC libraries proper, which share the builder dialect below. */
type RpcLib = Exclude<TypecheckLib, 'zodOnly'>

interface Dialect {
  /** rpc.ts: creates the builder, exported as `rpc`. */
  builder: string
  /** The top of client.ts: creates the typed client, exported as `api`. */
  client: string
}

const DIALECTS: Record<RpcLib, Dialect> = {
  // docs/routers.md: `initRpc.create()` (superjson is the default serializer); docs/client.md: createRpcClient<AppRouter>.
  wirecall: {
    builder: [`import { initRpc } from '@wirecall/core'`, ``, `export const rpc = initRpc.create()`].join('\n'),
    client: [
      `import { createRpcClient } from '@wirecall/client'`,
      `import type { AppRouter } from './router'`,
      ``,
      `export const api = createRpcClient<AppRouter>({ url: 'ws://localhost:3000/rpc' })`,
    ].join('\n'),
  },
  // tRPC v11: initTRPC with the superjson transformer, and the wsLink client its docs recommend for subscriptions.
  trpc: {
    builder: [
      `import { initTRPC } from '@trpc/server'`,
      `import superjson from 'superjson'`,
      ``,
      `export const rpc = initTRPC.create({ transformer: superjson })`,
    ].join('\n'),
    client: [
      `import { createTRPCClient, createWSClient, wsLink } from '@trpc/client'`,
      `import superjson from 'superjson'`,
      `import type { AppRouter } from './router'`,
      ``,
      `const wsClient = createWSClient({ url: 'ws://localhost:3000/rpc' })`,
      `export const api = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient, transformer: superjson })] })`,
    ].join('\n'),
  },
}

function procedureSource(p: PlannedProcedure): string {
  const schema = `z.object({ ${p.input.map((f) => `${f.name}: ${f.schema}`).join(', ')} })`
  const result = `{ ${p.countField}: Object.keys(input).length, ${p.echoField}: input.${p.input[0]!.name}, ${p.dateField}: new Date() }`
  const resolver = p.kind === 'subscription' ? `async function* ({ input }) {\n        yield ${result}\n      }` : `({ input }) => (${result})`
  return `    ${p.path[2]}: rpc.procedure\n      .input(${schema})\n      .${p.kind}(${resolver}),`
}

/** `src` of `a<i>.ts`: one top-level router, its sub-routers and their procedures. */
function topRouterSource(a: number, procedures: PlannedProcedure[]): string {
  const lines = [`import { z } from 'zod'`, `import { rpc } from './rpc'`, ``, `export const a${a}Router = rpc.router({`]
  for (let b = 0; b < SUB_ROUTERS; b++) {
    lines.push(`  b${b}: rpc.router({`)
    for (const p of procedures.filter((p) => p.path[0] === `a${a}` && p.path[1] === `b${b}`)) lines.push(procedureSource(p))
    lines.push(`  }),`)
  }
  lines.push(`})`, ``)
  return lines.join('\n')
}

function rootRouterSource(): string {
  const lines = [`import { rpc } from './rpc'`]
  for (let a = 0; a < ROUTERS; a++) lines.push(`import { a${a}Router } from './a${a}'`)
  lines.push(``, `export const appRouter = rpc.router({`)
  for (let a = 0; a < ROUTERS; a++) lines.push(`  a${a}: a${a}Router,`)
  lines.push(`})`, ``, `export type AppRouter = typeof appRouter`, ``)
  return lines.join('\n')
}

function callSource(p: PlannedProcedure): string {
  const input = `{ ${p.input.map((f) => `${f.name}: ${f.literal}`).join(', ')} }`
  const at = `api.${p.path.join('.')}`
  if (p.kind === 'subscription') {
    return [
      `  ${at}.subscribe(${input}, {`,
      `    onData: (event) => console.log(event.${p.countField}.toFixed()),`,
      `    onError: (error) => console.error(error.message),`,
      `  })`,
    ].join('\n')
  }
  const method = p.kind === 'query' ? 'query' : 'mutate'
  return `  const r${p.n} = await ${at}.${method}(${input})\n  total += r${p.n}.${p.countField}.toFixed().length`
}

/** client.ts: one function per sub-router, each calling its 10 procedures. */
function clientSource(lib: RpcLib, procedures: PlannedProcedure[]): string {
  const lines = [DIALECTS[lib].client, ``]
  for (let a = 0; a < ROUTERS; a++) {
    for (let b = 0; b < SUB_ROUTERS; b++) {
      lines.push(`export async function use_a${a}_b${b}(): Promise<number> {`, `  let total = 0`)
      for (const p of procedures.filter((p) => p.path[0] === `a${a}` && p.path[1] === `b${b}`)) lines.push(callSource(p))
      lines.push(`  return total`, `}`, ``)
    }
  }
  return lines.join('\n')
}

/** The generated project's tsconfig: strict, published `.d.ts` through node_modules, no emit. */
export const GENERATED_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2022', 'DOM'],
    module: 'ESNext',
    moduleResolution: 'Bundler',
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  },
  include: ['*.ts'],
}

/**
 * The zod-only floor: each procedure is its schema plus a plain function
 * typed with `z.input` (what the caller passes) that parses to `z.output`
 * (what the resolver sees) and returns the same output object; subscriptions
 * are async generators. The client file gets the type of the nested object
 * and calls every function with the same literal, reading the same field.
 * Every type an RPC library must infer from zod is inferred here too; what
 * a library costs on top of this is its own.
 */
function zodOnlyProcedureSource(p: PlannedProcedure): { schema: string; entry: string } {
  const schemaName = `input${p.n}`
  const schema = `const ${schemaName} = z.object({ ${p.input.map((f) => `${f.name}: ${f.schema}`).join(', ')} })`
  const result = `{ ${p.countField}: Object.keys(input).length, ${p.echoField}: input.${p.input[0]!.name}, ${p.dateField}: new Date() }`
  const head = `(raw: z.input<typeof ${schemaName}>)`
  const parse = `const input = ${schemaName}.parse(raw)`
  const entry =
    p.kind === 'subscription'
      ? `    ${p.path[2]}: async function* ${head} {
      ${parse}
      yield ${result}
    },`
      : `    ${p.path[2]}: async ${head} => {
      ${parse}
      return ${result}
    },`
  return { schema, entry }
}

function zodOnlyTopRouterSource(a: number, procedures: PlannedProcedure[]): string {
  const mine = procedures.filter((p) => p.path[0] === `a${a}`)
  const lines = [`import { z } from 'zod'`, ``, ...mine.map((p) => zodOnlyProcedureSource(p).schema), ``, `export const a${a}Router = {`]
  for (let b = 0; b < SUB_ROUTERS; b++) {
    lines.push(`  b${b}: {`)
    for (const p of mine.filter((p) => p.path[1] === `b${b}`)) lines.push(zodOnlyProcedureSource(p).entry)
    lines.push(`  },`)
  }
  lines.push(`}`, ``)
  return lines.join('\n')
}

function zodOnlyRootRouterSource(): string {
  const lines: string[] = []
  for (let a = 0; a < ROUTERS; a++) lines.push(`import { a${a}Router } from './a${a}'`)
  lines.push(``, `export const appRouter = {`)
  for (let a = 0; a < ROUTERS; a++) lines.push(`  a${a}: a${a}Router,`)
  lines.push(`}`, ``, `export type AppRouter = typeof appRouter`, ``)
  return lines.join('\n')
}

function zodOnlyCallSource(p: PlannedProcedure): string {
  const input = `{ ${p.input.map((f) => `${f.name}: ${f.literal}`).join(', ')} }`
  const at = `api.${p.path.join('.')}`
  if (p.kind === 'subscription') return `  for await (const event of ${at}(${input})) console.log(event.${p.countField}.toFixed())`
  return `  const r${p.n} = await ${at}(${input})\n  total += r${p.n}.${p.countField}.toFixed().length`
}

function zodOnlyClientSource(procedures: PlannedProcedure[]): string {
  // Types only, as a client imports its server's router: the value is declared.
  const lines = [`import type { AppRouter } from './router'`, ``, `declare const api: AppRouter`, ``]
  for (let a = 0; a < ROUTERS; a++) {
    for (let b = 0; b < SUB_ROUTERS; b++) {
      lines.push(`export async function use_a${a}_b${b}(): Promise<number> {`, `  let total = 0`)
      for (const p of procedures.filter((p) => p.path[0] === `a${a}` && p.path[1] === `b${b}`)) lines.push(zodOnlyCallSource(p))
      lines.push(`  return total`, `}`, ``)
    }
  }
  return lines.join('\n')
}

/** File name → contents of the generated project for `lib` (tsconfig.json included). */
export function projectFiles(lib: TypecheckLib): Record<string, string> {
  const procedures = planProcedures()
  if (procedures.length !== ROUTERS * SUB_ROUTERS * PROCEDURES) throw new Error('the plan lost procedures')
  const tsconfig = `${JSON.stringify(GENERATED_TSCONFIG, null, 2)}\n`
  if (lib === 'zodOnly') {
    const files: Record<string, string> = { 'tsconfig.json': tsconfig, 'router.ts': zodOnlyRootRouterSource(), 'client.ts': zodOnlyClientSource(procedures) }
    for (let a = 0; a < ROUTERS; a++) files[`a${a}.ts`] = zodOnlyTopRouterSource(a, procedures)
    return files
  }
  const files: Record<string, string> = {
    'tsconfig.json': tsconfig,
    'rpc.ts': `${DIALECTS[lib].builder}\n`,
    'router.ts': rootRouterSource(),
    'client.ts': clientSource(lib, procedures),
  }
  for (let a = 0; a < ROUTERS; a++) files[`a${a}.ts`] = topRouterSource(a, procedures)
  return files
}
