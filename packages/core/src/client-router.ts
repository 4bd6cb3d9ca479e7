import { isStandardSchema, type AnySchema, type SchemaInputOf, type SchemaOutputOf } from './schema'
import type { MaybePromise } from './types'

/*
 * Client procedures: the other direction. A client router declares what a
 * client implements (input and output schemas, no context, no resolver);
 * the client implements it with `implementClient`, and the server calls it
 * through the `peer` its resolvers receive (`initRpc...peer<typeof clientRouter>()`).
 */

/** The four types of a client procedure: what the server sends and gets, what the client's handler takes and returns. */
export interface ClientProcedureTypes {
  /** What the server passes to `call()` (the input schema's input). */
  input: unknown
  /** What the client's handler receives (the input schema's output). */
  handlerInput: unknown
  /** What the client's handler returns (the output schema's input). */
  handlerOutput: unknown
  /** What the server's `call()` resolves with (the output schema's output). */
  output: unknown
}

/** What a client procedure holds at runtime. */
export interface ClientProcedureDef {
  readonly input: AnySchema | undefined
  readonly output: AnySchema | undefined
}

/**
 * A client procedure, and its builder: each method returns a new one.
 * Declare it with {@link clientProcedure}, put it in {@link defineClientRouter}.
 */
export class ClientProcedure<T extends ClientProcedureTypes> {
  readonly '~wirecall' = 'client-procedure' as const
  /** @internal */
  readonly _def: ClientProcedureDef
  /** Phantom: never set at runtime. */
  declare readonly '~types'?: T

  /** @internal Use `clientProcedure`. */
  constructor(def: ClientProcedureDef = { input: undefined, output: undefined }) {
    this._def = Object.freeze(def)
  }

  /** Validates, on the client, what the server sends; a failure answers the server `BAD_REQUEST` and the handler never runs. */
  input<TSchema extends AnySchema>(
    schema: TSchema,
  ): ClientProcedure<{ input: SchemaInputOf<TSchema>; handlerInput: SchemaOutputOf<TSchema>; handlerOutput: T['handlerOutput']; output: T['output'] }> {
    assertSchema(schema, 'input')
    return new ClientProcedure({ ...this._def, input: schema })
  }

  /** Validates what the handler returns, on the client before it is sent and on the server when it arrives; a failure is `INTERNAL`. */
  output<TSchema extends AnySchema>(
    schema: TSchema,
  ): ClientProcedure<{ input: T['input']; handlerInput: T['handlerInput']; handlerOutput: SchemaInputOf<TSchema>; output: SchemaOutputOf<TSchema> }> {
    assertSchema(schema, 'output')
    return new ClientProcedure({ ...this._def, output: schema })
  }
}

/** Any client procedure. */
export type AnyClientProcedure = ClientProcedure<any>

/**
 * The start of every client procedure: add `.input()` and `.output()`.
 *
 * @example
 * ```ts
 * const confirm = clientProcedure.input(z.object({ text: z.string() })).output(z.boolean())
 * ```
 */
export const clientProcedure: ClientProcedure<{ input: undefined | void; handlerInput: undefined; handlerOutput: unknown; output: unknown }> =
  /* @__PURE__ */ new ClientProcedure()

/** The entries of a client router: client procedures and nested namespaces. */
export interface ClientRouterRecord {
  readonly [key: string]: AnyClientProcedure | ClientRouterRecord
}

/** A client router: what a client implements and a server may call. */
export interface ClientRouter<TRecord extends ClientRouterRecord> {
  readonly '~wirecall': 'client-router'
  readonly _def: {
    readonly record: TRecord
    /** Every procedure by dotted path. */
    readonly procedures: ReadonlyMap<string, AnyClientProcedure>
  }
}

/** Any client router. */
export type AnyClientRouter = ClientRouter<ClientRouterRecord>

/**
 * Declares the procedures a client implements and the server may call,
 * once, in code both sides import.
 *
 * @example
 * ```ts
 * export const clientRouter = defineClientRouter({
 *   ui: { confirm: clientProcedure.input(z.object({ text: z.string() })).output(z.boolean()) },
 * })
 * ```
 */
export function defineClientRouter<TRecord extends ClientRouterRecord>(record: TRecord): ClientRouter<TRecord> {
  const procedures = new Map<string, AnyClientProcedure>()
  const walk = (entries: ClientRouterRecord, prefix: string): void => {
    for (const key of Object.keys(entries)) {
      // `call` ends a path on the server's `peer` (`peer.ui.confirm.call()`), and `then` would make it look like a promise.
      if (key.length === 0 || key.includes('.') || key.startsWith('$') || key === 'call' || key === 'then') {
        throw new TypeError(`defineClientRouter(): "${prefix}${key}" is not a valid name (not empty, no dots, not starting with $, not "call" or "then")`)
      }
      const entry = entries[key]
      if (entry instanceof ClientProcedure) procedures.set(prefix + key, entry)
      else if (typeof entry === 'object' && entry !== null) walk(entry, `${prefix}${key}.`)
      else throw new TypeError(`defineClientRouter(): "${prefix}${key}" is neither a client procedure nor a namespace`)
    }
  }
  walk(record, '')
  return Object.freeze({ '~wirecall': 'client-router' as const, _def: Object.freeze({ record, procedures }) })
}

/** True for a router made by {@link defineClientRouter}. */
export function isClientRouter(value: unknown): value is AnyClientRouter {
  return typeof value === 'object' && value !== null && (value as { '~wirecall'?: unknown })['~wirecall'] === 'client-router'
}

// ---- the server's side: calling ---------------------------------------------

/** Options of a server's call to a client procedure. */
export interface PeerCallOptions {
  /** Rejects with `TIMEOUT` after this long, and tells the client to stop. @default the server's `peerCalls.timeoutMs` (10 000) */
  timeoutMs?: number | undefined
  /** Aborting it rejects the call with `CANCELLED` and tells the client to stop. */
  signal?: AbortSignal | undefined
}

/** One client procedure as the server calls it. */
export interface PeerProcedure<T extends ClientProcedureTypes> {
  /**
   * Calls the client procedure on this connection. Rejects with
   * `NOT_IMPLEMENTED` (the client does not implement it), `TIMEOUT`,
   * `CANCELLED`, `TOO_MANY_REQUESTS` (too many calls to this client in
   * flight), `CONNECTION_LOST` (the connection closed first: never retried)
   * or what the client's handler threw.
   */
  call(...args: undefined extends T['input'] ? [input?: T['input'], options?: PeerCallOptions] : [input: T['input'], options?: PeerCallOptions]): Promise<T['output']>
}

/** The typed calls a server makes to one connection's client: `peer.ui.confirm.call(input)`. */
export type PeerApi<TRecord extends ClientRouterRecord> = {
  readonly [K in keyof TRecord]: TRecord[K] extends ClientProcedure<infer T>
    ? PeerProcedure<T>
    : TRecord[K] extends ClientRouterRecord
      ? PeerApi<TRecord[K]>
      : never
}

/** The `peer` of a client router: what `initRpc...peer<typeof clientRouter>()` gives resolvers. */
export type inferPeer<TRouter extends AnyClientRouter> = PeerApi<TRouter['_def']['record']>

// ---- the client's side: implementing ----------------------------------------

/** What a client handler receives beside its input. */
export interface ClientHandlerOptions {
  /** Aborted when the server cancels or gives up (its timeout), or the connection drops. */
  signal: AbortSignal
  /** Dotted path of the procedure. */
  path: string
}

/** The function that implements one client procedure. */
export type ClientHandler<T extends ClientProcedureTypes> = (input: T['handlerInput'], options: ClientHandlerOptions) => MaybePromise<T['handlerOutput']>

/** A handler for every procedure of a client router, nested the same way. */
export type ClientImplementation<TRecord extends ClientRouterRecord> = {
  [K in keyof TRecord]: TRecord[K] extends ClientProcedure<infer T>
    ? ClientHandler<T>
    : TRecord[K] extends ClientRouterRecord
      ? ClientImplementation<TRecord[K]>
      : never
}

function assertSchema(schema: unknown, what: string): void {
  if (!isStandardSchema(schema)) throw new TypeError(`clientProcedure.${what}(): expected a Standard Schema v1 validator`)
}
