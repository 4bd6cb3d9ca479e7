import { RpcError, SCHEMA_ENDPOINT_PATH, initRpc, type AnyProcedure, type AnyRouter } from '@wirecall/core'

// A server without the endpoint answers SCHEMA_ENDPOINT_PATH as it answers any unknown path.
export { SCHEMA_ENDPOINT_PATH }

/** The object form of the `schemaEndpoint` option. */
export interface SchemaEndpointOptions {
  /**
   * The server's public address, `wss://api.example.com/rpc`, written into
   * the AsyncAPI document's `servers`. The server cannot know it (behind a
   * proxy the `Host` header says something else, and it is the client's to
   * choose, so it is never read).
   * @default undefined (the document names no server)
   */
  url?: string
}

/** What `@wirecall/codegen` is expected to export, checked at run time: the server has no type dependency on it. */
interface CodegenModule {
  describeRouter(router: AnyRouter, options: { url?: string | undefined }): Promise<{ manifest: unknown; asyncapi: unknown }>
}

/** Loads the generator: a real `import()` in both builds, so neither bundler nor `require` pulls it in before it is asked for. */
export type CodegenLoader = () => Promise<unknown>

/**
 * The query served at {@link SCHEMA_ENDPOINT_PATH}: answers `{ manifest,
 * asyncapi }`, built by `@wirecall/codegen`'s `describeRouter` on the first
 * call and kept for the server's life (the router does not change). It is
 * an ordinary procedure to the session, so the call limits, rate limits,
 * input bounds, instrumentation and `onError` apply to it as to any call.
 *
 * Without `@wirecall/codegen` installed it answers `NOT_IMPLEMENTED` with
 * what to install: the server works, this deployment of it lacks a part,
 * and a masked `INTERNAL` would hide the fix from the caller.
 */
export function schemaEndpointProcedure(router: AnyRouter, options: SchemaEndpointOptions, load: CodegenLoader = loadCodegen): AnyProcedure {
  let described: Promise<{ manifest: unknown; asyncapi: unknown }> | undefined
  const describe = async () => {
    const codegen = await importCodegen(load)
    const { manifest, asyncapi } = await codegen.describeRouter(router, { url: options.url })
    return { manifest, asyncapi }
  }
  // Built once, failure included: the same router gives the same answer, and a retry loop must not rebuild it.
  return initRpc.create().procedure.query(() => (described ??= describe()))
}

// A variable, not a literal: esbuild turns a literal `import()` into `require()` in the CommonJS build,
// and the specifier must not be resolved (let alone bundled) until someone calls the endpoint.
const CODEGEN = '@wirecall/codegen'
const loadCodegen: CodegenLoader = () => import(CODEGEN) as Promise<unknown>

async function importCodegen(load: CodegenLoader): Promise<CodegenModule> {
  let loaded: unknown
  try {
    loaded = await load()
  } catch (cause) {
    if (isMissingCodegen(cause)) {
      throw new RpcError('NOT_IMPLEMENTED', `the schema endpoint needs ${CODEGEN}: install it beside @wirecall/server (npm install ${CODEGEN})`, {
        cause,
      })
    }
    throw new RpcError('INTERNAL', `${CODEGEN} could not be loaded`, { cause })
  }
  if (!hasDescribeRouter(loaded)) throw new RpcError('INTERNAL', `${CODEGEN} has no describeRouter: its version does not match @wirecall/server's`)
  return loaded
}

/** Whether the import failed because the generator itself is not installed (not one of its own dependencies). */
function isMissingCodegen(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, message } = error as { code?: unknown; message?: unknown }
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && typeof message === 'string' && (message.includes(`'${CODEGEN}'`) || message.includes(`"${CODEGEN}"`))
}

function hasDescribeRouter(value: unknown): value is CodegenModule {
  return typeof value === 'object' && value !== null && typeof (value as { describeRouter?: unknown }).describeRouter === 'function'
}
