import { isStandardSchema, type AnySchema, type SchemaInputOf, type SchemaOutputOf, type inferSchemaInput, type inferSchemaOutput } from './schema'
import { isStreamSchema, type StreamSchema } from './stream'
import type { ResyncSignal, TrackedEnvelope, UnwrapTracked } from './tracked'
import type { VolatileEnvelope } from './volatile'
import type { MaybePromise, Overwrite } from './types'
import type {
  MiddlewareFunction,
  MutationProcedure,
  Procedure,
  IdempotencyDeclaration,
  ProcedureDef,
  ProcedureStep,
  ProcedureType,
  QueryProcedure,
  ResolverOptions,
  SubscriptionProcedure,
  SubscriptionResolverOptions,
} from './procedure'

declare const unset: unique symbol
/** Marks a slot of the builder that has not been set. */
export type Unset = typeof unset

/** What a builder holds at runtime; every builder method returns a new one. */
export interface BuilderState {
  readonly steps: readonly ProcedureStep[]
  readonly output: AnySchema | undefined
  readonly meta: object | undefined
  readonly idempotent?: IdempotencyDeclaration | undefined
}

/** The builder's state, one object so the builder has one type parameter. */
export interface BuilderDef {
  /** Context `createContext` must produce: the `initRpc` context, before middleware. */
  rootCtx: object
  /** Context the next step sees. */
  ctx: object
  /** Input the resolver sees (the schema's output). */
  input: unknown
  /** Input the client sends (the schema's input). */
  clientInput: unknown
  /** Declared output schema, or `Unset`. */
  output: AnySchema | Unset
  /** Type of `.meta()` values, set with `initRpc.meta<TMeta>()`. */
  meta: object
  /** Whether `.idempotent()` was called. */
  idempotent: boolean
  /** The client procedures resolvers may call (`peer`), set with `initRpc.peer<typeof clientRouter>()`. */
  peer: object
}

/** Starting state of `rpc.procedure` for a given context. */
export type InitialBuilderDef<TCtx extends object, TMeta extends object = object, TPeer extends object = {}> = {
  peer: TPeer
  meta: TMeta
  rootCtx: TCtx
  ctx: TCtx
  input: undefined
  clientInput: undefined | void
  output: Unset
  idempotent: false
}

type ResolverReturn<TDef extends BuilderDef> = TDef['output'] extends AnySchema ? inferSchemaInput<TDef['output']> : unknown
type ClientOutput<TDef extends BuilderDef, TOut> = TDef['output'] extends AnySchema ? inferSchemaOutput<TDef['output']> : TOut
type SubscriptionYield<TDef extends BuilderDef> = TDef['output'] extends AnySchema
  ? inferSchemaInput<TDef['output']> | TrackedEnvelope<inferSchemaInput<TDef['output']>> | VolatileEnvelope<inferSchemaInput<TDef['output']>> | ResyncSignal
  : unknown
type SubscriptionOutput<TDef extends BuilderDef, TEvent> = TDef['output'] extends AnySchema
  ? inferSchemaOutput<TDef['output']> | Extract<TEvent, ResyncSignal>
  : UnwrapTracked<TEvent>

/**
 * Builds procedures. Immutable: every method returns a new builder, so a
 * builder with middleware (say `authed`) can be shared by many procedures.
 *
 * @example
 * ```ts
 * const authed = rpc.procedure.use(({ ctx, next }) => {
 *   if (!ctx.user) throw new RpcError('UNAUTHORIZED', 'sign in first')
 *   return next({ ctx: { user: ctx.user } })
 * })
 * const add = authed.input(z.object({ text: z.string() })).mutation(({ ctx, input }) => db.add(ctx.user, input.text))
 * ```
 */
export class ProcedureBuilder<TDef extends BuilderDef> {
  /** @internal */
  readonly _state: BuilderState

  /** @internal Use `rpc.procedure`. */
  constructor(state: BuilderState = { steps: [], output: undefined, meta: undefined }) {
    this._state = state
  }

  /**
   * Validates the input with any Standard Schema v1 validator. A failure is
   * a `BAD_REQUEST` with the issues in `error.data.issues`, and the resolver
   * never runs. Steps run in declaration order, so middleware added before
   * `.input()` runs before validation (put auth first).
   *
   * Calling `.input()` again adds fields: each schema validates what the
   * client sent and the resulting objects are merged, so a shared base
   * procedure can declare `{ orgId }` and each procedure its own fields.
   * Object schemas that reject unknown keys (`z.strictObject`) do not mix
   * with this.
   */
  // The new def is spelled out rather than `Overwrite<TDef, {...}>`: the
  // same object type (same keys, same order), without a mapped type and an
  // intersection to build and flatten for every procedure. Both inputs ask
  // the same question, whether this is the first `.input()` (`input` is
  // still `undefined`), written out in each member: an object type's
  // members are computed only when read, and once, whereas a helper type
  // taking the def would be recomputed each time the compiler instantiates
  // this signature while inferring `TSchema`.
  input<TSchema extends AnySchema>(
    schema: TSchema,
  ): ProcedureBuilder<{
    peer: TDef['peer']
    meta: TDef['meta']
    rootCtx: TDef['rootCtx']
    ctx: TDef['ctx']
    output: TDef['output']
    input: [TDef['input']] extends [undefined] ? SchemaOutputOf<TSchema> : Overwrite<TDef['input'], SchemaOutputOf<TSchema>>
    clientInput: [TDef['input']] extends [undefined]
      ? SchemaInputOf<TSchema>
      : Overwrite<Exclude<TDef['clientInput'], void>, SchemaInputOf<TSchema>>
    idempotent: TDef['idempotent']
  }> {
    assertSchema(schema, 'input')
    // A stream is the whole input: there is nothing to merge it with.
    const inputs = this._state.steps.filter((step) => step.kind === 'input')
    if (inputs.length > 0 && (isStreamSchema(schema) || inputs.some((step) => isStreamSchema(step.schema)))) {
      throw new TypeError('input(): a stream() input cannot be combined with another .input(); send what else is needed in its first chunk')
    }
    return new ProcedureBuilder({ ...this._state, steps: [...this._state.steps, { kind: 'input', schema }] })
  }

  /**
   * Validates what the resolver returns (each event, for subscriptions). A
   * failure is the server's bug: the caller gets `INTERNAL`, `onError` sees
   * the issues.
   */
  output<TSchema extends AnySchema>(schema: TSchema): ProcedureBuilder<Overwrite<TDef, { output: TSchema }>> {
    assertSchema(schema, 'output')
    return new ProcedureBuilder({ ...this._state, output: schema })
  }

  /** Adds a middleware; what it passes to `next({ ctx })` is merged into the context after it. */
  use<TExtension extends object>(
    fn: MiddlewareFunction<TDef['ctx'], TExtension, TDef['meta']>,
  ): ProcedureBuilder<Overwrite<TDef, { ctx: Overwrite<TDef['ctx'], TExtension> }>> {
    if (typeof fn !== 'function') throw new TypeError('use(): middleware must be a function')
    return new ProcedureBuilder({ ...this._state, steps: [...this._state.steps, { kind: 'middleware', fn }] })
  }

  /**
   * Attaches metadata that every middleware of the procedure receives as
   * `meta`: required roles, rate-limit classes, docs. Its type is set once
   * with `initRpc.meta<TMeta>()`; calling `.meta()` again merges over what a
   * shared builder already declared.
   *
   * @example
   * ```ts
   * const rpc = initRpc.context<Ctx>().meta<{ role?: 'admin' }>().create()
   * const guarded = rpc.procedure.use(({ ctx, meta, next }) => {
   *   if (meta?.role === 'admin' && !ctx.user?.admin) throw new RpcError('FORBIDDEN', 'admins only')
   *   return next()
   * })
   * const purge = guarded.meta({ role: 'admin' }).mutation(() => db.purge())
   * ```
   */
  meta(meta: TDef['meta']): ProcedureBuilder<TDef> {
    if (typeof meta !== 'object' || meta === null) throw new TypeError('meta(): expected an object')
    return new ProcedureBuilder({ ...this._state, meta: { ...this._state.meta, ...meta } })
  }

  /**
   * Declares a mutation idempotent: running it twice with the same input
   * has the effect of running it once, given the key. Clients then send
   * every call to it with an idempotency key (the server announces these
   * paths when the connection opens), and re-send it safely after a dropped
   * connection; the server runs it once per key. With `{ requireKey: true }`
   * a call without a key — from a client that opted out, or another
   * implementation — is refused with `BAD_REQUEST`. Ignored on queries
   * (always retried) and subscriptions.
   *
   * @example
   * ```ts
   * const pay = rpc.procedure
   *   .input(z.object({ orderId: z.string() }))
   *   .idempotent({ requireKey: true })
   *   .mutation(({ input, idempotencyKey }) => payments.charge(input.orderId, idempotencyKey))
   * ```
   */
  idempotent(options?: { requireKey?: boolean | undefined }): ProcedureBuilder<Overwrite<TDef, { idempotent: true }>> {
    return new ProcedureBuilder({ ...this._state, idempotent: options?.requireKey === true ? 'required' : 'key' })
  }

  // The resolvers' `opts` are wrapped in `NoInfer`: only the return type
  // has anything to infer (`TOut`, `TEvent`), but without it the compiler
  // still walks the whole options type, schema-derived input included, for
  // type variables on every procedure. It changes no type: `opts` reads as
  // `ResolverOptions<...>`, as before.

  /**
   * A read-only call. Declaring it a query promises it is safe to run twice,
   * which lets the client re-send it after a dropped connection (see
   * `docs/reconnect.md`); use `.mutation()` for anything with side effects.
   */
  query<TOut extends ResolverReturn<TDef>>(
    resolver: (opts: NoInfer<ResolverOptions<TDef['ctx'], TDef['input'], TDef['peer']>>) => MaybePromise<TOut>,
  ): QueryProcedure<{ input: TDef['clientInput']; output: ClientOutput<TDef, TOut>; ctx: TDef['rootCtx'] }> {
    return this.build('query', resolver)
  }

  /** A call with side effects: never re-sent automatically unless it is declared `.idempotent()` or the caller marks it so. */
  mutation<TOut extends ResolverReturn<TDef>>(
    resolver: (opts: NoInfer<ResolverOptions<TDef['ctx'], TDef['input'], TDef['peer']>>) => MaybePromise<TOut>,
  ): MutationProcedure<{ input: TDef['clientInput']; output: ClientOutput<TDef, TOut>; ctx: TDef['rootCtx']; idempotent: TDef['idempotent'] }> {
    return this.build('mutation', resolver)
  }

  /**
   * A stream of events: an async generator (or anything returning an
   * `AsyncIterable`). Yield `tracked(id, data)` to let clients resume.
   */
  subscription<TEvent extends SubscriptionYield<TDef>>(
    resolver: (opts: NoInfer<SubscriptionResolverOptions<TDef['ctx'], TDef['input'], TDef['peer']>>) => MaybePromise<AsyncIterable<TEvent>>,
  ): SubscriptionProcedure<{ input: TDef['clientInput']; output: SubscriptionOutput<TDef, TEvent>; ctx: TDef['rootCtx'] }> {
    return this.build('subscription', resolver)
  }

  private build<TType extends ProcedureType>(type: TType, resolver: unknown): Procedure<TType, any> {
    if (typeof resolver !== 'function') throw new TypeError(`${type}(): resolver must be a function`)
    const def = {
      type,
      steps: this._state.steps,
      output: this._state.output,
      meta: this._state.meta,
      idempotent: type === 'mutation' ? this._state.idempotent : undefined,
      streamInput: streamInputOf(this._state.steps),
      resolver: resolver as ProcedureDef['resolver'],
    } as ProcedureDef & { type: TType }
    return Object.freeze({ '~wirecall': 'procedure', _def: Object.freeze(def) }) as Procedure<TType, any>
  }
}

/** The stream() among the input steps, if there is one (it is then the only one: see `input()`). */
function streamInputOf(steps: readonly ProcedureStep[]): StreamSchema | undefined {
  for (const step of steps) if (step.kind === 'input' && isStreamSchema(step.schema)) return step.schema
  return undefined
}

function assertSchema(schema: unknown, what: string): void {
  if (!isStandardSchema(schema)) throw new TypeError(`${what}(): expected a Standard Schema v1 validator (zod, valibot, arktype, ...)`)
}

