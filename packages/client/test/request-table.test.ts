import { RpcError } from '@wirecall/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushMicrotasks } from '../../../tests/helpers/async'
import { RequestTable, type PendingCall } from '../src/request-table'

const DEFAULT_TIMEOUT_MS = 1_000

/** How a call's promise ended, observed without awaiting it (so a rejection is never unhandled). */
interface Observed {
  settled: boolean
  value: unknown
  error: RpcError | undefined
}

function observe(promise: Promise<unknown>, onSettled: () => void): Observed {
  const seen: Observed = { settled: false, value: undefined, error: undefined }
  promise.then(
    (value) => {
      seen.settled = true
      seen.value = value
      onSettled()
    },
    (error: unknown) => {
      seen.settled = true
      seen.error = error instanceof RpcError ? error : new RpcError('INTERNAL', `not an RpcError: ${String(error)}`)
      onSettled()
    },
  )
  return seen
}


function setup() {
  /** Calls the table asked to have cancelled on the server, with whether their promise had settled by then. */
  const cancelledCalls: { id: number; stillInTable: boolean }[] = []
  const table: RequestTable = new RequestTable(DEFAULT_TIMEOUT_MS, (call) => {
    cancelledCalls.push({ id: call.id, stillInTable: table.get(call.id) === call })
  })
  /** Ids of the calls in the order their promises settled. */
  const settledOrder: number[] = []
  let nextId = 1
  /** Adds a call with a small ASCII frame and returns its handle and its observed promise. */
  const add = (
    options: { timeoutMs?: number; signal?: AbortSignal; retry?: boolean; path?: string | undefined; frame?: string; bytes?: number } = {},
  ): { call: PendingCall; result: Observed } => {
    const id = nextId++
    const path = 'path' in options ? options.path : 'users.get'
    const result = observe(
      table.add(id, options.frame ?? `{"id":${id}}`, options.retry ?? false, path, { timeoutMs: options.timeoutMs, signal: options.signal }, options.bytes),
      () => settledOrder.push(id),
    )
    const call = table.get(id)
    if (call === undefined) throw new Error(`call ${id} is not in the table`)
    return { call, result }
  }
  return { table, add, cancelledCalls, settledOrder }
}

describe('RequestTable', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  describe('settling', () => {
    it('resolves the promise add returned with the value settle gives, and forgets the call', async () => {
      const { table, add } = setup()
      const { call, result } = add()
      expect(table.size).toBe(1)
      table.settle(call, undefined, { name: 'Ada' })
      await flushMicrotasks()
      expect(result).toEqual({ settled: true, value: { name: 'Ada' }, error: undefined })
      expect(table.get(call.id)).toBeUndefined()
      expect(table.size).toBe(0)
    })

    it('rejects the promise with the error settle gives', async () => {
      const { table, add } = setup()
      const { call, result } = add()
      const error = new RpcError('NOT_FOUND', 'no such user')
      table.settle(call, error)
      await flushMicrotasks()
      expect(result.error).toBe(error)
    })

    it('settles a call exactly once: a second settle, a late timeout or an abort afterwards do nothing', async () => {
      const { table, add, cancelledCalls } = setup()
      const controller = new AbortController()
      const own = add({ timeoutMs: 5_000, signal: controller.signal })
      const shared = add()
      table.markSent(own.call)
      table.markSent(shared.call)
      table.settle(own.call, undefined, 'first')
      table.settle(shared.call, undefined, 'first')

      table.settle(own.call, new RpcError('INTERNAL', 'second'))
      table.settle(shared.call, undefined, 'second')
      table.cancelCall(own.call.id, new RpcError('CANCELLED'))
      controller.abort()
      vi.advanceTimersByTime(10_000)
      await flushMicrotasks()

      expect(own.result).toEqual({ settled: true, value: 'first', error: undefined })
      expect(shared.result).toEqual({ settled: true, value: 'first', error: undefined })
      expect(cancelledCalls).toEqual([])
      expect(table.size).toBe(0)
    })

    it('ignores a stale call object whose id is no longer in the table', async () => {
      const { table, add } = setup()
      const { call, result } = add({ timeoutMs: 50 })
      vi.advanceTimersByTime(50)
      table.settle(call, undefined, 'late answer')
      await flushMicrotasks()
      expect(result.error?.code).toBe('TIMEOUT')
      expect(result.value).toBeUndefined()
    })
  })

  describe('the shared deadline timer', () => {
    it('is one timer for every call on the default timeout', () => {
      const { add } = setup()
      for (let i = 0; i < 100; i++) add()
      expect(vi.getTimerCount()).toBe(1)
    })

    it('times calls out in the order they were made, with TIMEOUT and a message naming the call, re-armed for each next deadline', async () => {
      const { table, add, settledOrder: order } = setup()
      const first = add({ path: 'users.get' })
      vi.advanceTimersByTime(300)
      const second = add({ path: 'users.list' })
      vi.advanceTimersByTime(300)
      const third = add({ path: undefined }) // updateParams

      vi.advanceTimersByTime(DEFAULT_TIMEOUT_MS - 600 - 1)
      await flushMicrotasks()
      expect(order).toEqual([])
      vi.advanceTimersByTime(1) // 1 000 ms after the first call
      await flushMicrotasks()
      expect(order).toEqual([first.call.id])
      expect(first.result.error?.code).toBe('TIMEOUT')
      expect(first.result.error?.message).toBe('"users.get" timed out after 1000 ms')
      expect(vi.getTimerCount()).toBe(1)

      vi.advanceTimersByTime(299)
      await flushMicrotasks()
      expect(order).toEqual([first.call.id])
      vi.advanceTimersByTime(1)
      await flushMicrotasks()
      expect(order).toEqual([first.call.id, second.call.id])
      expect(second.result.error?.message).toBe('"users.list" timed out after 1000 ms')

      vi.advanceTimersByTime(300)
      await flushMicrotasks()
      expect(order).toEqual([first.call.id, second.call.id, third.call.id])
      expect(third.result.error?.code).toBe('TIMEOUT')
      expect(third.result.error?.message).toBe('updateParams timed out after 1000 ms')
      expect(vi.getTimerCount()).toBe(0)
      expect(table.size).toBe(0)
    })

    it('times out together the calls made at the same moment', async () => {
      const { add } = setup()
      const calls = [add(), add(), add()]
      vi.advanceTimersByTime(DEFAULT_TIMEOUT_MS)
      await flushMicrotasks()
      expect(calls.map(({ result }) => result.error?.code)).toEqual(['TIMEOUT', 'TIMEOUT', 'TIMEOUT'])
      expect(vi.getTimerCount()).toBe(0)
    })

    it('re-arms for the next deadline when the earliest call was answered before its own', async () => {
      const { table, add } = setup()
      const first = add()
      vi.advanceTimersByTime(500)
      const second = add()
      table.settle(first.call, undefined, 'ok')
      vi.advanceTimersByTime(500) // the timer fires for the first call's deadline and finds nothing due
      expect(vi.getTimerCount()).toBe(1)
      vi.advanceTimersByTime(499)
      await flushMicrotasks()
      expect(second.result.settled).toBe(false)
      vi.advanceTimersByTime(1)
      await flushMicrotasks()
      expect(second.result.error?.code).toBe('TIMEOUT')
      expect(vi.getTimerCount()).toBe(0)
    })

    // Found by this test: add() compared the clamped timeout with the unclamped default, so with a client
    // timeoutMs of Infinity (or anything over 2^31 - 1 ms) each call armed a timer of its own.
    it('shares one timer among the calls on the default timeout even when that default is Infinity', () => {
      const table = new RequestTable(Infinity, () => {})
      for (let id = 1; id <= 3; id++) observe(table.add(id, '{}', false, 'p', undefined, undefined), () => {})
      expect(vi.getTimerCount()).toBe(1)
    })

    it('lets the shared timer lapse at its deadline when every call was answered, arming no other', () => {
      const { table, add } = setup()
      const { call } = add()
      table.settle(call, undefined, 'ok')
      expect(vi.getTimerCount()).toBe(1) // unref'd; it is not cleared when the table empties
      vi.advanceTimersByTime(DEFAULT_TIMEOUT_MS)
      expect(vi.getTimerCount()).toBe(0)
    })

    it('times out a call from the moment it was made, whatever happened to connections meanwhile', async () => {
      const { table, add } = setup()
      const { call, result } = add({ retry: true })
      table.markSent(call)
      vi.advanceTimersByTime(600)
      table.connectionLost(new RpcError('CONNECTION_LOST'))
      table.markSent(call)
      vi.advanceTimersByTime(400)
      await flushMicrotasks()
      expect(result.error?.code).toBe('TIMEOUT')
    })
  })

  describe('a call with its own timeoutMs', () => {
    it('gets its own timer, separate from the shared one, and times out with its own timeout in the message', async () => {
      const { add } = setup()
      const shared = add()
      const own = add({ timeoutMs: 250, path: 'slow.query' })
      expect(vi.getTimerCount()).toBe(2)
      vi.advanceTimersByTime(250)
      await flushMicrotasks()
      expect(own.result.error?.code).toBe('TIMEOUT')
      expect(own.result.error?.message).toBe('"slow.query" timed out after 250 ms')
      expect(shared.result.settled).toBe(false)
      expect(vi.getTimerCount()).toBe(1)
    })

    it('has its timer cleared when it settles', () => {
      const { table, add } = setup()
      const own = add({ timeoutMs: 5_000 })
      expect(vi.getTimerCount()).toBe(1)
      table.settle(own.call, undefined, 'ok')
      expect(vi.getTimerCount()).toBe(0)
    })

    it('shares the default timer when its timeoutMs equals the default', () => {
      const { add } = setup()
      add()
      add({ timeoutMs: DEFAULT_TIMEOUT_MS })
      expect(vi.getTimerCount()).toBe(1)
    })

    it('waits as long as a timer can for a timeoutMs of Infinity, instead of timing out at once', async () => {
      const { add } = setup()
      const { call, result } = add({ timeoutMs: Infinity })
      vi.advanceTimersByTime(24 * 60 * 60 * 1_000)
      await flushMicrotasks()
      expect(result.settled).toBe(false)
      expect(call.timeoutMs).toBe(2_147_483_647)
    })
  })

  describe('abort signals', () => {
    it('cancels a call with CANCELLED when its signal aborts, keeping the reason as the cause', async () => {
      const { table, add } = setup()
      const controller = new AbortController()
      const { result } = add({ signal: controller.signal })
      const reason = new Error('user navigated away')
      controller.abort(reason)
      await flushMicrotasks()
      expect(result.error?.code).toBe('CANCELLED')
      expect(result.error?.message).toBe('The call was aborted')
      expect(result.error?.cause).toBe(reason)
      expect(table.size).toBe(0)
    })

    it.each([
      ['an answer', (table: RequestTable, call: PendingCall) => table.settle(call, undefined, 'ok')],
      ['a timeout', () => vi.advanceTimersByTime(DEFAULT_TIMEOUT_MS)],
      ['a lost connection', (table: RequestTable) => table.connectionLost(new RpcError('CONNECTION_LOST'))],
      ['the client closing', (table: RequestTable) => table.rejectAll(new RpcError('CONNECTION_LOST', 'closed'))],
    ])('removes its abort listener when the call settles by %s', (_, end) => {
      const { table, add } = setup()
      const controller = new AbortController()
      const addListener = vi.spyOn(controller.signal, 'addEventListener')
      const removeListener = vi.spyOn(controller.signal, 'removeEventListener')
      const { call } = add({ signal: controller.signal })
      table.markSent(call)
      expect(addListener).toHaveBeenCalledTimes(1)
      const listener = addListener.mock.calls[0]![1]
      end(table, call)
      expect(table.size).toBe(0)
      expect(removeListener).toHaveBeenCalledWith('abort', listener)
    })
  })

  describe('cancelCall', () => {
    it('has the server told only about calls already written, before their promise settles', async () => {
      const { table, add, cancelledCalls } = setup()
      const written = add()
      const queued = add()
      table.markSent(written.call)
      table.cancelCall(written.call.id, new RpcError('CANCELLED'))
      table.cancelCall(queued.call.id, new RpcError('CANCELLED'))
      expect(cancelledCalls).toEqual([{ id: written.call.id, stillInTable: true }])
      await flushMicrotasks()
      expect(written.result.error?.code).toBe('CANCELLED')
      expect(queued.result.error?.code).toBe('CANCELLED')
    })

    it('has the server told about a written call that times out or is aborted, but not about one still queued', () => {
      const { table, add, cancelledCalls } = setup()
      const controller = new AbortController()
      const aborted = add({ signal: controller.signal })
      const timedOut = add({ timeoutMs: 100 })
      const queued = add({ timeoutMs: 100 })
      table.markSent(aborted.call)
      table.markSent(timedOut.call)
      controller.abort()
      vi.advanceTimersByTime(100)
      expect(cancelledCalls.map((c) => c.id)).toEqual([aborted.call.id, timedOut.call.id])
      expect(cancelledCalls.every((c) => c.stillInTable)).toBe(true)
      expect(table.get(queued.call.id)).toBeUndefined()
    })

    it('does nothing for an id not in the table', () => {
      const { table, cancelledCalls } = setup()
      table.cancelCall(42, new RpcError('CANCELLED'))
      expect(cancelledCalls).toEqual([])
    })
  })

  describe('the queue of unwritten calls', () => {
    it('counts unwritten calls and their UTF-8 bytes, non-ASCII frames included', () => {
      const { table, add } = setup()
      const frames = ['{"a":1}', '{"name":"Zoë"}', '{"price":"5 €"}', '{"mood":"😀"}']
      const calls = frames.map((frame) => add({ frame }).call)
      const bytes = frames.map((frame) => Buffer.byteLength(frame, 'utf8'))
      expect(bytes).toEqual([7, 15, 17, 15]) // ë is 2 bytes, € 3, 😀 4 (two UTF-16 units)
      expect(table.queuedCalls).toBe(4)
      expect(table.queuedBytes).toBe(bytes.reduce((sum, n) => sum + n, 0))
      expect(calls.map((call) => call.bytes)).toEqual(bytes)
    })

    it('takes the size given to add instead of measuring the frame', () => {
      const { table, add } = setup()
      add({ frame: '{"a":1}', bytes: 100 })
      expect(table.queuedBytes).toBe(100)
    })

    it('takes a call out of the queue when it is written (once) or settled unwritten, and not again when a written call settles', () => {
      const { table, add } = setup()
      const a = add({ frame: 'aaaa' })
      const b = add({ frame: 'bbbbbb' })
      const c = add({ frame: 'é' })
      expect([table.queuedCalls, table.queuedBytes]).toEqual([3, 12])
      table.markSent(a.call)
      table.markSent(a.call)
      expect([table.queuedCalls, table.queuedBytes]).toEqual([2, 8])
      table.settle(a.call, undefined, 'ok')
      expect([table.queuedCalls, table.queuedBytes]).toEqual([2, 8])
      table.settle(b.call, new RpcError('CANCELLED'))
      expect([table.queuedCalls, table.queuedBytes]).toEqual([1, 2])
      expect([...table.unsent()]).toEqual([c.call])
      table.cancelCall(c.call.id, new RpcError('CANCELLED'))
      expect([table.queuedCalls, table.queuedBytes]).toEqual([0, 0])
    })
  })

  describe('connectionLost', () => {
    it('puts retryable written calls back in the queue and rejects the other written calls with the error', async () => {
      const { table, add, cancelledCalls } = setup()
      const retryWritten = add({ retry: true, frame: 'rw' })
      const onceWritten = add({ retry: false, frame: 'ow', timeoutMs: 5_000 })
      const onceQueued = add({ retry: false, frame: 'oq' })
      const retryQueued = add({ retry: true, frame: 'rq€' })
      table.markSent(retryWritten.call)
      table.markSent(onceWritten.call)
      expect([table.queuedCalls, table.queuedBytes]).toEqual([2, 7])

      const error = new RpcError('CONNECTION_LOST', 'The connection dropped')
      table.connectionLost(error)
      await flushMicrotasks()

      expect(onceWritten.result.error).toBe(error)
      for (const pending of [retryWritten, onceQueued, retryQueued]) expect(pending.result.settled).toBe(false)
      expect(retryWritten.call.sent).toBe(false)
      expect([...table.unsent()]).toEqual([retryWritten.call, onceQueued.call, retryQueued.call])
      expect([table.queuedCalls, table.queuedBytes]).toEqual([3, 9])
      expect(cancelledCalls).toEqual([]) // no socket to tell
      expect(vi.getTimerCount()).toBe(1) // the rejected call's own timer is gone; the shared one stays
    })
  })

  describe('rejectAll', () => {
    it('rejects every call with the error and leaves no timer, listener or queued bytes', async () => {
      const { table, add } = setup()
      const controller = new AbortController()
      const removeListener = vi.spyOn(controller.signal, 'removeEventListener')
      const calls = [add(), add({ timeoutMs: 5_000 }), add({ signal: controller.signal }), add({ retry: true })]
      table.markSent(calls[3]!.call)
      expect(vi.getTimerCount()).toBe(2)

      const error = new RpcError('CONNECTION_LOST', 'The client closed')
      table.rejectAll(error)
      await flushMicrotasks()

      for (const { result } of calls) expect(result.error).toBe(error)
      expect(table.size).toBe(0)
      expect(vi.getTimerCount()).toBe(0)
      expect(removeListener).toHaveBeenCalledTimes(1)
      expect([table.queuedCalls, table.queuedBytes]).toEqual([0, 0])
    })

    it('leaves the table usable: a later call arms the shared timer again', async () => {
      const { table, add } = setup()
      add()
      table.rejectAll(new RpcError('CONNECTION_LOST'))
      const { result } = add()
      expect(vi.getTimerCount()).toBe(1)
      vi.advanceTimersByTime(DEFAULT_TIMEOUT_MS)
      await flushMicrotasks()
      expect(result.error?.code).toBe('TIMEOUT')
    })
  })
})
