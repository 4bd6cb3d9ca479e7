import type { StandardSchemaV1 } from '@standard-schema/spec'
import { RpcError } from './errors'
import { check, isStandardSchema, type AnySchema, type SchemaInputOf, type SchemaOutputOf } from './schema'

/**
 * What a `ReadableStream` offers a reader, written out so that core needs no
 * DOM or Node stream types: a WHATWG `ReadableStream<T>` (browsers, Node's
 * `stream/web`, Deno, Bun) is one.
 */
export interface ReadableStreamLike<T> {
  getReader(): {
    read(): Promise<{ done: true; value?: T | undefined } | { done: false; value: T }>
    releaseLock(): void
    cancel(reason?: unknown): Promise<void>
  }
}

/** What a client passes as a stream input: any async iterable (an async generator) or a `ReadableStream`. */
export type StreamSource<T> = AsyncIterable<T> | ReadableStreamLike<T>

/** Bounds of one client stream; each defaults to the server's `streams` option. */
export interface StreamOptions {
  /** Chunks the client may send ahead of the resolver: the credit window. @default 16 */
  window?: number | undefined
  /** Most chunks in one stream; one more ends it with `PAYLOAD_TOO_LARGE`. @default 100_000 */
  maxChunks?: number | undefined
  /** Most bytes (the chunks' JSON, summed) in one stream; past it, `PAYLOAD_TOO_LARGE`. @default 64 MiB */
  maxBytes?: number | undefined
  /** Longest a stream may run, from the call to its `end`; past it, `TIMEOUT`. @default 600_000 (10 minutes) */
  maxDurationMs?: number | undefined
}

/**
 * A stream input: `rpc.procedure.input(stream(chunkSchema))`. The client
 * passes a {@link StreamSource}; the resolver receives an
 * `AsyncIterable` of validated chunks.
 */
export interface StreamSchema<TChunk extends AnySchema = AnySchema>
  extends StandardSchemaV1<StreamSource<SchemaInputOf<TChunk>>, AsyncIterable<SchemaOutputOf<TChunk>>> {
  readonly '~wirecall': 'stream'
  /** Validates every chunk. */
  readonly chunk: TChunk
  readonly options: Readonly<StreamOptions>
}

/** Marks the server's own incoming streams: they validate their chunks themselves, and the schema passes them on as they are. */
export const INCOMING_STREAM = '~wirecall.incoming'

/**
 * Declares a stream input: the client sends any `AsyncIterable` or
 * `ReadableStream`, item by item, as the server grants credit; the resolver
 * reads it with `for await`. Every chunk is validated with `chunk` (a
 * failure ends the call with `BAD_REQUEST`); a resolver that stops reading
 * pauses the client's producer.
 *
 * @example
 * ```ts
 * const upload = rpc.procedure
 *   .input(stream(z.instanceof(Uint8Array), { maxBytes: 100 * 1024 * 1024 }))
 *   .mutation(async ({ input }) => {
 *     let bytes = 0
 *     for await (const chunk of input) bytes += chunk.byteLength
 *     return { bytes }
 *   })
 * ```
 */
export function stream<TChunk extends AnySchema>(chunk: TChunk, options: StreamOptions = {}): StreamSchema<TChunk> {
  if (!isStandardSchema(chunk)) throw new TypeError('stream(): expected a Standard Schema v1 validator for the chunks')
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 1)) {
      throw new TypeError(`stream(): ${key} must be a positive integer`)
    }
  }
  return {
    '~wirecall': 'stream',
    chunk,
    options: Object.freeze({ ...options }),
    '~standard': {
      version: 1,
      vendor: 'wirecall',
      validate(value: unknown) {
        if (typeof value === 'object' && value !== null && (value as Record<string, unknown>)[INCOMING_STREAM] === true) return { value: value as never }
        const source = toAsyncIterable(value)
        if (source === undefined) return { issues: [{ message: 'expected a stream (an AsyncIterable or a ReadableStream)' }] }
        return { value: validated(source, chunk) as never }
      },
    },
  }
}

/** True for a schema made by {@link stream}. */
export function isStreamSchema(value: unknown): value is StreamSchema {
  return typeof value === 'object' && value !== null && (value as { '~wirecall'?: unknown })['~wirecall'] === 'stream'
}

/** True for what a client may pass as a stream input: an async iterable or a `ReadableStream`. */
export function isStreamSource(value: unknown): value is StreamSource<unknown> {
  if (typeof value !== 'object' || value === null) return false
  return typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function' || typeof (value as { getReader?: unknown }).getReader === 'function'
}

/** The source as an `AsyncIterable`: a `ReadableStream` is read through its reader (cancelled on `return()`); `undefined` for anything else. */
export function toAsyncIterable<T>(source: unknown): AsyncIterable<T> | undefined {
  if (!isStreamSource(source)) return undefined
  if (typeof (source as AsyncIterable<T>)[Symbol.asyncIterator] === 'function') return source as AsyncIterable<T>
  const readable = source as ReadableStreamLike<T>
  return {
    [Symbol.asyncIterator]() {
      const reader = readable.getReader()
      return {
        async next() {
          const { done, value } = await reader.read()
          if (done) reader.releaseLock()
          return done ? { done: true, value: undefined } : { done: false, value }
        },
        async return() {
          await reader.cancel().catch(() => {})
          return { done: true, value: undefined }
        },
      }
    },
  }
}

/** Validates each item of a stream passed in process (`createCaller`, tests); a bad one throws `BAD_REQUEST` and stops the source. */
async function* validated(source: AsyncIterable<unknown>, chunk: AnySchema): AsyncGenerator<unknown, void, undefined> {
  let index = 0
  for await (const item of source) {
    let value: unknown
    try {
      value = await check(chunk, item, 'input')
    } catch (error) {
      throw invalidChunk(index, error)
    }
    index++
    yield value
  }
}

/**
 * The `BAD_REQUEST` a chunk that failed its schema (or could not be
 * decoded) ends its stream with, the same on the server and in process:
 * "Invalid chunk N: …" (N from 0), the issues in `data`.
 */
export function invalidChunk(index: number, thrown: unknown): RpcError {
  const cause = RpcError.from(thrown, 'BAD_REQUEST')
  return new RpcError('BAD_REQUEST', `Invalid chunk ${index}: ${cause.message.replace(/^Invalid input: /, '')}`, { data: cause.data, cause })
}
