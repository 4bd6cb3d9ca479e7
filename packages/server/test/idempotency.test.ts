import { RpcError } from '@wirecall/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushMicrotasks, observe } from '../../../tests/helpers/async'
import { IdempotencyCache, idempotencyDefaults, type Begin, type IdempotentRun, type Outcome } from '../src/session/idempotency'

/** A result outcome whose `fields` are exactly `chars` UTF-16 units long. */
function result(chars = 20): Outcome {
  const prefix = ',"data":"'
  return { kind: 'result', fields: `${prefix}${'x'.repeat(Math.max(0, chars - prefix.length - 1))}"` }
}

function failure(code = 'INTERNAL'): Outcome {
  return { kind: 'error', fields: `,"code":"${code}","message":"failed"` }
}

function started(begin: Begin): Extract<Begin, { kind: 'new' }> {
  if (begin.kind !== 'new') throw new Error(`expected a new run, got ${begin.kind}`)
  return begin
}

function joined(begin: Begin): IdempotentRun {
  if (begin.kind !== 'existing') throw new Error(`expected an existing run, got ${begin.kind}`)
  return begin.run
}

function refused(begin: Begin): RpcError {
  if (begin.kind !== 'refused') throw new Error(`expected a refusal, got ${begin.kind}`)
  return begin.error
}


const cancelled = () => new RpcError('CANCELLED', 'The caller cancelled')

describe('IdempotencyCache', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  describe('begin', () => {
    it('starts a new run for a key it has not seen', () => {
      const cache = new IdempotencyCache(undefined)
      const first = started(cache.begin('posts.create', 'k1', 'input-a'))
      expect(first.run.signal.aborted).toBe(false)
      expect(cache.size).toBe(1)
    })

    it('joins the run still going for the same key and input, and both callers get the same outcome', async () => {
      const cache = new IdempotencyCache(undefined)
      const first = started(cache.begin('posts.create', 'k1', 'input-a'))
      const second = joined(cache.begin('posts.create', 'k1', 'input-a'))
      expect(second.signal).toBe(first.run.signal)
      const waiting = observe(second.outcome)
      await flushMicrotasks()
      expect(waiting.settled).toBe(false)

      const outcome = result()
      first.finish(outcome)
      expect(await first.run.outcome).toBe(outcome)
      expect(await second.outcome).toBe(outcome)
      expect(cache.size).toBe(1)
    })

    it('replays the stored outcome for the same key and input once the run finished', async () => {
      const cache = new IdempotencyCache(undefined)
      const first = started(cache.begin('posts.create', 'k1', 'input-a'))
      first.finish(result(40))
      const replay = joined(cache.begin('posts.create', 'k1', 'input-a'))
      expect(await replay.outcome).toEqual(result(40))
      expect(replay.signal.aborted).toBe(false)
      expect(cache.size).toBe(1)
    })

    it('replays a stored error outcome as well', async () => {
      const cache = new IdempotencyCache(undefined)
      started(cache.begin('posts.create', 'k1', 'input-a')).finish(failure('NOT_FOUND'))
      expect(await joined(cache.begin('posts.create', 'k1', 'input-a')).outcome).toEqual(failure('NOT_FOUND'))
    })

    it('keeps keys apart by path: the same key on another procedure starts its own run', () => {
      const cache = new IdempotencyCache(undefined)
      started(cache.begin('posts.create', 'k1', 'input-a'))
      started(cache.begin('posts.delete', 'k1', 'input-a'))
      expect(cache.size).toBe(2)
    })

    it('refuses the same key with another input with CONFLICT, whether the run is going or finished', () => {
      const cache = new IdempotencyCache(undefined)
      const first = started(cache.begin('posts.create', 'k1', 'input-a'))
      const whileRunning = refused(cache.begin('posts.create', 'k1', 'input-b'))
      expect(whileRunning).toBeInstanceOf(RpcError)
      expect(whileRunning.code).toBe('CONFLICT')
      expect(whileRunning.message).toBe('This idempotency key was already used with a different input')

      first.finish(result())
      expect(refused(cache.begin('posts.create', 'k1', 'input-b')).code).toBe('CONFLICT')
      expect(cache.size).toBe(1)
    })

    it('does not count a refused caller as waiting for the run', () => {
      const cache = new IdempotencyCache(undefined)
      const first = started(cache.begin('posts.create', 'k1', 'input-a'))
      refused(cache.begin('posts.create', 'k1', 'input-b'))
      first.run.cancel(cancelled())
      expect(first.run.signal.aborted).toBe(true)
    })
  })

  describe('bounds', () => {
    it('refuses a new key with OVERLOADED once maxEntries runs are going, and still lets callers join them', () => {
      const cache = new IdempotencyCache({ maxEntries: 2 })
      started(cache.begin('m', 'k1', 'a'))
      started(cache.begin('m', 'k2', 'a'))
      const error = refused(cache.begin('m', 'k3', 'a'))
      expect(error.code).toBe('OVERLOADED')
      expect(error.message).toBe('Too many idempotent mutations in flight; retry later')
      joined(cache.begin('m', 'k1', 'a'))
      expect(cache.size).toBe(2)
    })

    it('makes room for a new key by dropping the oldest finished outcome when maxEntries is reached', () => {
      const cache = new IdempotencyCache({ maxEntries: 2 })
      started(cache.begin('m', 'k1', 'a')).finish(result())
      started(cache.begin('m', 'k2', 'a')).finish(result())
      started(cache.begin('m', 'k3', 'a'))
      expect(cache.size).toBe(2)
      joined(cache.begin('m', 'k2', 'a'))
      started(cache.begin('m', 'k1', 'a')) // k1 was dropped: it runs again, and k2 goes in turn
      expect(cache.size).toBe(2)
    })

    it('treats maxEntries below 1 as 1', () => {
      const cache = new IdempotencyCache({ maxEntries: 0 })
      started(cache.begin('m', 'k1', 'a'))
      expect(refused(cache.begin('m', 'k2', 'a')).code).toBe('OVERLOADED')
    })

    it('forgets a finished outcome ttlMs after the run finished, so the key runs again', () => {
      const cache = new IdempotencyCache({ ttlMs: 1_000 })
      const first = started(cache.begin('m', 'k1', 'a'))
      vi.advanceTimersByTime(500)
      first.finish(result())
      vi.advanceTimersByTime(999) // the clock runs from the finish, not from begin
      joined(cache.begin('m', 'k1', 'a'))
      vi.advanceTimersByTime(1)
      started(cache.begin('m', 'k1', 'a'))
      expect(cache.size).toBe(1)
    })

    it('lets an expired key be used again with another input', () => {
      const cache = new IdempotencyCache({ ttlMs: 1_000 })
      started(cache.begin('m', 'k1', 'a')).finish(result())
      vi.advanceTimersByTime(1_000)
      started(cache.begin('m', 'k1', 'b'))
    })

    it('never expires a run still going', () => {
      const cache = new IdempotencyCache({ ttlMs: 1_000 })
      const first = started(cache.begin('m', 'k1', 'a'))
      vi.advanceTimersByTime(60_000)
      started(cache.begin('m', 'k2', 'a')) // sweeps
      expect(joined(cache.begin('m', 'k1', 'a')).signal).toBe(first.run.signal)
    })

    it('sweeps the expired outcomes of other keys when a new key arrives, with no timer of its own', () => {
      const cache = new IdempotencyCache({ ttlMs: 1_000 })
      started(cache.begin('m', 'k1', 'a')).finish(result())
      started(cache.begin('m', 'k2', 'a')).finish(result())
      expect(vi.getTimerCount()).toBe(0)
      vi.advanceTimersByTime(1_000)
      expect(cache.size).toBe(2)
      started(cache.begin('m', 'k3', 'a'))
      expect(cache.size).toBe(1)
    })

    it('drops the oldest finished outcomes first when their bytes go over maxBytes', () => {
      // Each outcome is 100 UTF-16 units, counted as 300 bytes; two fit in 600.
      const cache = new IdempotencyCache({ maxBytes: 600 })
      started(cache.begin('m', 'k1', 'a')).finish(result(100))
      started(cache.begin('m', 'k2', 'a')).finish(result(100))
      expect(cache.size).toBe(2)
      started(cache.begin('m', 'k3', 'a')).finish(result(100))
      expect(cache.size).toBe(2)
      joined(cache.begin('m', 'k2', 'a'))
      joined(cache.begin('m', 'k3', 'a'))
      started(cache.begin('m', 'k1', 'a'))
    })

    it('orders outcomes by when they finished, not when they started, for eviction', () => {
      const cache = new IdempotencyCache({ maxBytes: 600 })
      const early = started(cache.begin('m', 'k1', 'a'))
      started(cache.begin('m', 'k2', 'a')).finish(result(100))
      early.finish(result(100))
      started(cache.begin('m', 'k3', 'a')).finish(result(100))
      joined(cache.begin('m', 'k1', 'a'))
      started(cache.begin('m', 'k2', 'a'))
    })

    it('counts an outcome as 3 bytes per UTF-16 unit (an upper bound of its UTF-8 size), so ASCII counts triple', async () => {
      const cache = new IdempotencyCache({ maxBytes: 299 })
      started(cache.begin('m', 'k1', 'a')).finish(result(100)) // 100 bytes of UTF-8, counted as 300
      const replay = await joined(cache.begin('m', 'k1', 'a')).outcome
      expect(replay.fields).toContain('"code":"PAYLOAD_TOO_LARGE"')
    })

    it('replays PAYLOAD_TOO_LARGE for an outcome over maxBytes, while callers that joined the run get the outcome itself', async () => {
      const cache = new IdempotencyCache({ maxBytes: 600 })
      const first = started(cache.begin('m', 'k1', 'a'))
      const second = joined(cache.begin('m', 'k1', 'a'))
      const big = result(201)
      first.finish(big)
      expect(await first.run.outcome).toBe(big)
      expect(await second.outcome).toBe(big)

      const replay = await joined(cache.begin('m', 'k1', 'a')).outcome
      expect(replay.kind).toBe('error')
      expect(JSON.parse(`{"id":1${replay.fields}}`)).toEqual({
        id: 1,
        code: 'PAYLOAD_TOO_LARGE',
        message: 'This idempotent mutation already ran; its result was too large to keep for replay',
      })
    })

    it('holds no bytes for an outcome too large to keep, so it evicts nothing', () => {
      const cache = new IdempotencyCache({ maxBytes: 600 })
      started(cache.begin('m', 'k1', 'a')).finish(result(200))
      started(cache.begin('m', 'k2', 'a')).finish(result(10_000))
      joined(cache.begin('m', 'k1', 'a'))
      expect(cache.size).toBe(2)
    })

    it('uses the documented defaults', () => {
      expect(idempotencyDefaults).toEqual({ ttlMs: 300_000, maxEntries: 10_000, maxBytes: 8_388_608 })
      const cache = new IdempotencyCache(undefined)
      started(cache.begin('m', 'k1', 'a')).finish(result())
      vi.advanceTimersByTime(idempotencyDefaults.ttlMs - 1)
      joined(cache.begin('m', 'k1', 'a'))
      vi.advanceTimersByTime(1)
      started(cache.begin('m', 'k1', 'a'))
    })
  })

  describe('cancellation', () => {
    it('aborts the run only when every caller waiting for it has cancelled, with the last reason', () => {
      const cache = new IdempotencyCache(undefined)
      const first = started(cache.begin('m', 'k1', 'a'))
      const second = joined(cache.begin('m', 'k1', 'a'))
      const third = joined(cache.begin('m', 'k1', 'a'))
      first.run.cancel(cancelled())
      second.cancel(cancelled())
      expect(first.run.signal.aborted).toBe(false)
      const last = cancelled()
      third.cancel(last)
      expect(first.run.signal.aborted).toBe(true)
      expect(first.run.signal.reason).toBe(last)
    })

    it('counts a caller that cancels twice once', () => {
      const cache = new IdempotencyCache(undefined)
      const first = started(cache.begin('m', 'k1', 'a'))
      joined(cache.begin('m', 'k1', 'a'))
      first.run.cancel(cancelled())
      first.run.cancel(cancelled())
      expect(first.run.signal.aborted).toBe(false)
    })

    it('aborts nothing when a caller cancels after the run finished', () => {
      const cache = new IdempotencyCache(undefined)
      const first = started(cache.begin('m', 'k1', 'a'))
      first.finish(result())
      first.run.cancel(cancelled())
      const replay = joined(cache.begin('m', 'k1', 'a'))
      replay.cancel(cancelled())
      expect(first.run.signal.aborted).toBe(false)
      expect(replay.signal.aborted).toBe(false)
    })

    it('forgets an error outcome after every caller cancelled, so a retry with the same key runs again', async () => {
      const cache = new IdempotencyCache(undefined)
      const first = started(cache.begin('m', 'k1', 'a'))
      first.run.cancel(cancelled())
      const outcome = failure('CANCELLED')
      first.finish(outcome)
      expect(await first.run.outcome).toBe(outcome)
      expect(cache.size).toBe(0)
      const retry = started(cache.begin('m', 'k1', 'a'))
      expect(retry.run.signal.aborted).toBe(false)
    })

    it('keeps a result outcome even after every caller cancelled: the mutation happened', async () => {
      const cache = new IdempotencyCache(undefined)
      const first = started(cache.begin('m', 'k1', 'a'))
      first.run.cancel(cancelled())
      first.finish(result(30))
      expect(await joined(cache.begin('m', 'k1', 'a')).outcome).toEqual(result(30))
    })

    it('keeps an error outcome when only some callers cancelled', async () => {
      const cache = new IdempotencyCache(undefined)
      const first = started(cache.begin('m', 'k1', 'a'))
      joined(cache.begin('m', 'k1', 'a'))
      first.run.cancel(cancelled())
      first.finish(failure())
      expect(await joined(cache.begin('m', 'k1', 'a')).outcome).toEqual(failure())
    })
  })

  describe('abortAll', () => {
    it('aborts every run still going, leaves finished ones alone, and resolves once the runs have finished', async () => {
      const cache = new IdempotencyCache(undefined)
      const running = started(cache.begin('m', 'k1', 'a'))
      const other = started(cache.begin('m', 'k2', 'a'))
      const done = started(cache.begin('m', 'k3', 'a'))
      done.finish(result())
      const reason = new RpcError('CANCELLED', 'The server is closing')

      const all = observe(cache.abortAll(reason))
      expect(running.run.signal.reason).toBe(reason)
      expect(other.run.signal.reason).toBe(reason)
      expect(done.run.signal.aborted).toBe(false)

      running.finish(failure('CANCELLED'))
      await flushMicrotasks()
      expect(all.settled).toBe(false)
      other.finish(result())
      await flushMicrotasks()
      expect(all.settled).toBe(true)
      // The aborted run that failed is forgotten; the one that completed is kept; the finished one stays.
      started(cache.begin('m', 'k1', 'a'))
      joined(cache.begin('m', 'k2', 'a'))
      joined(cache.begin('m', 'k3', 'a'))
    })

    it('resolves at once when no run is going', async () => {
      const cache = new IdempotencyCache(undefined)
      started(cache.begin('m', 'k1', 'a')).finish(result())
      const all = observe(cache.abortAll(new RpcError('CANCELLED')))
      await flushMicrotasks()
      expect(all.settled).toBe(true)
    })
  })

  it('size counts the keys it holds, running and finished', () => {
    const cache = new IdempotencyCache(undefined)
    expect(cache.size).toBe(0)
    const a = started(cache.begin('m', 'k1', 'a'))
    started(cache.begin('m', 'k2', 'a'))
    expect(cache.size).toBe(2)
    a.finish(result())
    expect(cache.size).toBe(2)
    joined(cache.begin('m', 'k1', 'a'))
    refused(cache.begin('m', 'k1', 'b'))
    expect(cache.size).toBe(2)
  })
})
