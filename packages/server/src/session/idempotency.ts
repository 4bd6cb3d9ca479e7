import { RpcError, errorFields, jsonSerializer } from '@wirecall/core'
import type { IdempotencyStore } from './idempotency-store'

/** Bounds of the idempotency cache; see `docs/reconnect.md`. */
export interface IdempotencyOptions {
  /** How long a finished outcome is kept for replay. @default 300_000 (5 minutes) */
  ttlMs?: number
  /** Most keys kept (running and finished). @default 10_000 */
  maxEntries?: number
  /** Most bytes of finished outcomes kept; the oldest go first. @default 8_388_608 (8 MiB) */
  maxBytes?: number
  /**
   * Records runs beyond this process, so a retry on another server process
   * joins the first run or replays its outcome (`redisIdempotencyStore` from
   * `@wirecall/redis`). Without it, the cache is this process's alone.
   */
  store?: IdempotencyStore
}

/**
 * An outcome ready to replay: the envelope's kind and its fields after `id`,
 * already JSON (`,"data":...`), so a replay costs one string concatenation.
 */
export interface Outcome {
  kind: 'result' | 'error'
  fields: string
}

/** One caller's handle on an idempotency key's execution; each caller that waits for it gets its own. */
export interface IdempotentRun {
  /** Settles with the outcome; never rejects. */
  readonly outcome: Promise<Outcome>
  /** Aborted only when every caller waiting for it cancelled explicitly, or the server closes. */
  readonly signal: AbortSignal
  /** A caller cancelled explicitly; the last one to do so aborts the run. */
  cancel(reason: RpcError): void
}

interface Entry {
  readonly fingerprint: string
  readonly controller: AbortController
  /** Until the run finishes: settles with its outcome. After: what is kept for replay (which may not be the outcome itself). */
  outcome: Promise<Outcome>
  settle(outcome: Outcome): void
  done: Outcome | undefined
  bytes: number
  expiresAt: number
  waiters: number
}

/** What {@link IdempotencyCache.begin} found. */
export type Begin =
  | { kind: 'new'; run: IdempotentRun; finish(outcome: Outcome): void }
  | { kind: 'existing'; run: IdempotentRun }
  | { kind: 'refused'; error: RpcError }

/**
 * Remembers idempotent mutations by path and key, so a mutation re-sent after
 * a reconnect joins the execution still running or gets the stored outcome
 * instead of running twice. Bounded in keys, bytes and time; expired entries
 * are swept when new ones arrive, so it needs no timer.
 */
export class IdempotencyCache {
  private readonly entries = new Map<string, Entry>()
  private bytes = 0
  /** How long a finished outcome is kept. */
  readonly ttlMs: number
  /** Where runs are recorded beyond this process, if anywhere. */
  readonly store: IdempotencyStore | undefined
  private readonly maxEntries: number
  private readonly maxBytes: number
  private readonly running = new Set<Promise<Outcome>>()

  constructor(options: IdempotencyOptions | undefined) {
    this.ttlMs = options?.ttlMs ?? idempotencyDefaults.ttlMs
    this.store = options?.store
    this.maxEntries = Math.max(1, options?.maxEntries ?? idempotencyDefaults.maxEntries)
    this.maxBytes = options?.maxBytes ?? idempotencyDefaults.maxBytes
  }

  /** Keys held; for tests and metrics. */
  get size(): number {
    return this.entries.size
  }

  /**
   * Looks a key up and either starts a new run or returns the existing one.
   * `fingerprint` identifies the input: the same key with another input is a
   * `CONFLICT`, since replaying the first outcome would answer a different
   * question.
   */
  begin(path: string, key: string, fingerprint: string): Begin {
    const now = Date.now()
    const id = `${path}\n${key}`
    let entry = this.entries.get(id)
    if (entry !== undefined && entry.done !== undefined && entry.expiresAt <= now) {
      this.remove(id, entry)
      entry = undefined
    }
    if (entry !== undefined) {
      if (entry.fingerprint !== fingerprint) {
        return { kind: 'refused', error: new RpcError('CONFLICT', 'This idempotency key was already used with a different input') }
      }
      return { kind: 'existing', run: this.handle(entry) }
    }
    this.sweep(now)
    if (this.entries.size >= this.maxEntries) {
      return { kind: 'refused', error: new RpcError('OVERLOADED', 'Too many idempotent mutations in flight; retry later') }
    }
    let settle!: (outcome: Outcome) => void
    const outcome = new Promise<Outcome>((resolve) => (settle = resolve))
    const created: Entry = { fingerprint, controller: new AbortController(), outcome, settle, done: undefined, bytes: 0, expiresAt: Infinity, waiters: 0 }
    this.entries.set(id, created)
    this.running.add(outcome)
    return { kind: 'new', run: this.handle(created), finish: (result) => this.finish(id, created, result) }
  }

  /** Aborts every run still going (the server is shutting down); resolves when they have all finished. */
  abortAll(reason: RpcError): Promise<unknown> {
    for (const entry of this.entries.values()) if (entry.done === undefined) entry.controller.abort(reason)
    return Promise.all(this.running)
  }

  private handle(entry: Entry): IdempotentRun {
    entry.waiters++
    let cancelled = false
    return {
      outcome: entry.outcome,
      signal: entry.controller.signal,
      cancel: (reason) => {
        if (cancelled) return
        cancelled = true
        if (--entry.waiters <= 0 && entry.done === undefined) entry.controller.abort(reason)
      },
    }
  }

  private finish(id: string, entry: Entry, outcome: Outcome): void {
    this.running.delete(entry.outcome)
    entry.settle(outcome)
    if (this.entries.get(id) !== entry) return
    // Every caller cancelled and the run stopped with an error: nothing happened worth replaying,
    // and a caller who tries again with the same key (a form submission id) must be able to.
    if (entry.controller.signal.aborted && outcome.kind === 'error') return this.remove(id, entry)
    // Re-inserted so the map stays ordered by finish time: sweeping stops at the first live entry.
    this.entries.delete(id)
    const bytes = outcome.fields.length * 3 // UTF-16 units to a UTF-8 upper bound, without encoding
    entry.done = bytes <= this.maxBytes ? outcome : TOO_LARGE
    entry.bytes = entry.done === outcome ? bytes : 0
    // Callers that joined the run got the outcome itself; later ones get what is kept, and an oversized outcome is let go.
    entry.outcome = Promise.resolve(entry.done)
    entry.expiresAt = Date.now() + this.ttlMs
    this.entries.set(id, entry)
    this.bytes += entry.bytes
    this.evictOverBytes()
  }

  private sweep(now: number): void {
    for (const [id, entry] of this.entries) {
      if (entry.done === undefined) continue
      if (entry.expiresAt > now && this.entries.size < this.maxEntries) return
      this.remove(id, entry)
    }
  }

  private evictOverBytes(): void {
    if (this.bytes <= this.maxBytes) return
    for (const [id, entry] of this.entries) {
      if (entry.done === undefined) continue
      this.remove(id, entry)
      if (this.bytes <= this.maxBytes) return
    }
  }

  private remove(id: string, entry: Entry): void {
    this.entries.delete(id)
    this.bytes -= entry.bytes
  }
}

/** What a repeated key gets when its outcome was too big to keep: the mutation ran; its answer is gone. */
const TOO_LARGE: Outcome = {
  kind: 'error',
  // No data, so no serializer is involved.
  fields: errorFields(jsonSerializer, 'PAYLOAD_TOO_LARGE', 'This idempotent mutation already ran; its result was too large to keep for replay', undefined),
}

/** Defaults of {@link IdempotencyOptions}; the docs quote these. */
export const idempotencyDefaults = {
  ttlMs: 300_000,
  maxEntries: 10_000,
  maxBytes: 8_388_608,
} as const
