import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { collectGarbage, settle, track, within, type Tracker } from '../../../tests/helpers/async'
import {
  RpcError,
  fromCallback,
  fromEmitter,
  fromEventTarget,
  isResync,
  isRpcError,
  type EmitterLike,
  type PushOptions,
  type PushSink,
  type ResyncSignal,
} from '@wirecall/core'

// ---------------------------------------------------------------------------
// one harness per adapter, so that every lifecycle rule is checked on all three
// ---------------------------------------------------------------------------

type Label = number | 'resync' | 'done'

interface Harness {
  iterable: AsyncIterable<unknown>
  /** Pushes `n` through the adapter's real source. */
  emit(n: number): void
  /** Times the source was started (listener added). */
  starts(): number
  /** Times the stop function ran (listener removal requested). */
  stops(): number
  /** Listeners currently attached to the source. */
  live(): number
}

type Make = (options?: PushOptions) => Harness

class TickEvent extends Event {
  constructor(readonly n: number) {
    super('tick')
  }
}

class CountingTarget extends EventTarget {
  adds = 0
  removes = 0
  readonly attached = new Set<unknown>()
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    if (type === 'tick') {
      this.adds++
      this.attached.add(listener)
    }
    super.addEventListener(type, listener, options)
  }
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    if (type === 'tick') {
      this.removes++
      this.attached.delete(listener)
    }
    super.removeEventListener(type, listener, options)
  }
}

const makeCallback: Make = (options) => {
  const sinks: PushSink<number>[] = []
  let starts = 0
  let stops = 0
  const iterable = fromCallback<number>((sink) => {
    starts++
    sinks.push(sink)
    return () => {
      stops++
    }
  }, options)
  return {
    iterable,
    emit: (n) => {
      for (const sink of sinks) sink.push(n)
    },
    starts: () => starts,
    stops: () => stops,
    live: () => starts - stops,
  }
}

const makeEmitter: Make = (options) => {
  const emitter = new EventEmitter()
  let ons = 0
  let offs = 0
  const on = emitter.on.bind(emitter)
  const off = emitter.off.bind(emitter)
  emitter.on = ((event: string | symbol, listener: (...args: unknown[]) => void) => {
    if (event === 'tick') ons++
    return on(event, listener)
  }) as typeof emitter.on
  emitter.off = ((event: string | symbol, listener: (...args: unknown[]) => void) => {
    if (event === 'tick') offs++
    return off(event, listener)
  }) as typeof emitter.off
  emitter.removeListener = emitter.off
  return {
    iterable: fromEmitter<number>(emitter, 'tick', options),
    emit: (n) => void emitter.emit('tick', n),
    starts: () => ons,
    stops: () => offs,
    live: () => emitter.listenerCount('tick'),
  }
}

const makeEventTarget: Make = (options) => {
  const target = new CountingTarget()
  return {
    iterable: fromEventTarget<Event>(target, 'tick', options),
    emit: (n) => void target.dispatchEvent(new TickEvent(n)),
    starts: () => target.adds,
    stops: () => target.removes,
    live: () => target.attached.size,
  }
}

function labelOf(result: IteratorResult<unknown>): Label {
  if (result.done === true) return 'done'
  const value = result.value
  if (isResync(value)) return 'resync'
  if (value instanceof TickEvent) return value.n
  if (typeof value === 'number') return value
  throw new Error(`unexpected value ${String(value)}`)
}

function iteratorOf(harness: Harness): AsyncIterator<unknown> {
  return harness.iterable[Symbol.asyncIterator]()
}

async function pull(iterator: AsyncIterator<unknown>, count: number): Promise<Label[]> {
  const out: Label[] = []
  for (let i = 0; i < count; i++) out.push(labelOf(await within(iterator.next(), `next() #${i}`, 2_000)))
  return out
}

async function expectPending(iterator: AsyncIterator<unknown>): Promise<Tracker<unknown>> {
  const tracker = track(iterator.next())
  await settle()
  expect(tracker.settled).toBe(false)
  return tracker
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)

// ---------------------------------------------------------------------------

describe.each<[string, Make]>([
  ['fromCallback', makeCallback],
  ['fromEmitter', makeEmitter],
  ['fromEventTarget', makeEventTarget],
])('%s', (_name, make) => {
  describe('buffering', () => {
    it('starts the source per iterator, not when the iterable is made', async () => {
      const h = make()
      expect(h.starts()).toBe(0)
      const a = iteratorOf(h)
      expect(h.starts()).toBe(1)
      expect(h.live()).toBe(1)
      const b = iteratorOf(h)
      expect(h.starts()).toBe(2)
      h.emit(1)
      expect(await pull(a, 1)).toEqual([1])
      expect(await pull(b, 1)).toEqual([1])
      await a.return!()
      await b.return!()
      expect(h.live()).toBe(0)
    })

    it.each([1, 2, 7, 8])('drops nothing when %i events (≤ maxBuffer 8) arrive before the first pull', async (count) => {
      const h = make({ maxBuffer: 8 })
      const it = iteratorOf(h)
      for (let i = 0; i < count; i++) h.emit(i)
      expect(await pull(it, count)).toEqual(range(0, count))
      await expectPending(it)
      await it.return!()
    })

    it('delivers an event pushed while next() is pending directly to that next()', async () => {
      const h = make({ maxBuffer: 1 })
      const it = iteratorOf(h)
      for (let round = 0; round < 5; round++) {
        const pending = await expectPending(it)
        h.emit(round)
        expect(labelOf(await within(pending.promise))).toBe(round)
      }
      // the direct deliveries did not occupy the buffer: a full buffer's worth still fits
      h.emit(100)
      expect(await pull(it, 1)).toEqual([100])
      await it.return!()
    })

    it('keeps order across interleaved pushes and pulls', async () => {
      const h = make({ maxBuffer: 4 })
      const it = iteratorOf(h)
      const got: Label[] = []
      let n = 0
      for (let round = 0; round < 10; round++) {
        for (let i = 0; i < (round % 4) + 1; i++) h.emit(n++)
        got.push(...(await pull(it, (round % 4) + 1)))
      }
      expect(got).toEqual(range(0, n))
      await it.return!()
    })
  })

  describe("overflow: 'drop-oldest' (default)", () => {
    it('drops the oldest, then yields ONE resync followed by the newest maxBuffer events in order', async () => {
      const h = make({ maxBuffer: 5 })
      const it = iteratorOf(h)
      for (let i = 0; i < 12; i++) h.emit(i)
      expect(await pull(it, 6)).toEqual(['resync', 7, 8, 9, 10, 11])
      await expectPending(it)
      expect(h.live()).toBe(1) // the source keeps running
      await it.return!()
    })

    it('after a partial drain, the resync marks the gap and the newest maxBuffer follow', async () => {
      const h = make({ maxBuffer: 5 })
      const it = iteratorOf(h)
      for (let i = 0; i < 5; i++) h.emit(i)
      expect(await pull(it, 2)).toEqual([0, 1])
      for (let i = 5; i < 15; i++) h.emit(i)
      expect(await pull(it, 6)).toEqual(['resync', 10, 11, 12, 13, 14])
      await expectPending(it)
      await it.return!()
    })

    it('exactly one over the bound drops exactly one', async () => {
      const h = make({ maxBuffer: 3 })
      const it = iteratorOf(h)
      for (let i = 0; i < 4; i++) h.emit(i)
      expect(await pull(it, 4)).toEqual(['resync', 1, 2, 3])
      await it.return!()
    })

    it('each overflow episode is announced by its own resync', async () => {
      const h = make({ maxBuffer: 2 })
      const it = iteratorOf(h)
      for (let i = 0; i < 5; i++) h.emit(i)
      expect(await pull(it, 3)).toEqual(['resync', 3, 4])
      h.emit(5)
      expect(await pull(it, 1)).toEqual([5])
      for (let i = 6; i < 10; i++) h.emit(i)
      expect(await pull(it, 3)).toEqual(['resync', 8, 9])
      await expectPending(it)
      await it.return!()
    })

    it('bounds the buffer at 1000 by default', async () => {
      const h = make()
      const it = iteratorOf(h)
      for (let i = 0; i < 1003; i++) h.emit(i)
      expect(await pull(it, 1001)).toEqual(['resync', ...range(3, 1003)])
      await expectPending(it)
      await it.return!()
    })
  })

  describe("overflow: 'error'", () => {
    it('ends with an OVERLOADED RpcError and stops the source at once', async () => {
      const h = make({ maxBuffer: 3, overflow: 'error' })
      const it = iteratorOf(h)
      for (let i = 0; i < 3; i++) h.emit(i)
      expect(h.live()).toBe(1)
      h.emit(3) // over the bound
      expect(h.live()).toBe(0)
      expect(h.stops()).toBe(1)
      h.emit(4) // ignored: the source is stopped (and pushes after end are dropped)

      const values: Label[] = []
      let failure: unknown
      for (let i = 0; i < 10; i++) {
        try {
          const result = await within(it.next())
          if (result.done === true) break
          values.push(labelOf(result))
        } catch (error) {
          failure = error
          break
        }
      }
      // whatever was buffered is a prefix of what was pushed, in order, with no resync
      expect(values).toEqual(range(0, values.length))
      expect(values.length).toBeLessThanOrEqual(3)
      expect(isRpcError(failure)).toBe(true)
      expect(failure).toBeInstanceOf(RpcError)
      expect((failure as RpcError).code).toBe('OVERLOADED')
      // reported once, then done
      expect(await within(it.next())).toEqual({ done: true, value: undefined })
      expect(await within(it.next())).toEqual({ done: true, value: undefined })
      expect(h.stops()).toBe(1)
    })

    it('does not fail while the consumer keeps up', async () => {
      const h = make({ maxBuffer: 2, overflow: 'error' })
      const it = iteratorOf(h)
      for (let round = 0; round < 20; round++) {
        h.emit(round * 2)
        h.emit(round * 2 + 1)
        expect(await pull(it, 2)).toEqual([round * 2, round * 2 + 1])
      }
      expect(h.live()).toBe(1)
      await it.return!()
    })
  })

  describe('teardown: the source is stopped exactly once', () => {
    it('on return(), which also drops what was buffered', async () => {
      const h = make()
      const it = iteratorOf(h)
      h.emit(1)
      h.emit(2)
      expect(await within(it.return!())).toEqual({ done: true, value: undefined })
      expect(h.stops()).toBe(1)
      expect(h.live()).toBe(0)
      expect(await within(it.next())).toEqual({ done: true, value: undefined })
      await within(it.return!())
      expect(h.stops()).toBe(1)
      h.emit(3)
      expect(await within(it.next())).toEqual({ done: true, value: undefined })
    })

    it('on return() while next() is pending: that next() resolves done', async () => {
      const h = make()
      const it = iteratorOf(h)
      const pending = await expectPending(it)
      await within(it.return!())
      expect(await within(pending.promise)).toEqual({ done: true, value: undefined })
      expect(h.stops()).toBe(1)
      expect(h.live()).toBe(0)
    })

    it('on break in for await', async () => {
      const h = make()
      const seen: Label[] = []
      const run = (async () => {
        let guard = 0
        for await (const item of h.iterable) {
          seen.push(labelOf({ done: false, value: item }))
          if (seen.length === 2) break
          if (++guard > 50) throw new Error('runaway loop')
        }
      })()
      await settle()
      for (let i = 0; i < 5; i++) h.emit(i)
      await within(run)
      expect(seen).toEqual([0, 1])
      expect(h.stops()).toBe(1)
      expect(h.live()).toBe(0)
    })

    it('on abort while not pulling: stopped at once, nothing pushed after the abort is delivered', async () => {
      const controller = new AbortController()
      const h = make({ signal: controller.signal })
      const it = iteratorOf(h)
      h.emit(1)
      controller.abort()
      expect(h.stops()).toBe(1)
      expect(h.live()).toBe(0)
      h.emit(2)
      // the iteration ends; what was already buffered may still be drained, nothing after the abort
      const rest: Label[] = []
      for (let i = 0; i < 5; i++) {
        const label = labelOf(await within(it.next()))
        rest.push(label)
        if (label === 'done') break
      }
      expect(rest.at(-1)).toBe('done')
      expect(rest).not.toContain(2)
      expect(h.stops()).toBe(1)
    })

    it('on abort while next() is pending: that next() resolves done', async () => {
      const controller = new AbortController()
      const h = make({ signal: controller.signal })
      const it = iteratorOf(h)
      const pending = await expectPending(it)
      controller.abort()
      expect(await within(pending.promise)).toEqual({ done: true, value: undefined })
      expect(h.stops()).toBe(1)
      expect(h.live()).toBe(0)
      await within(it.return!())
      expect(h.stops()).toBe(1)
    })

    it('abort after return() does not stop it again', async () => {
      const controller = new AbortController()
      const h = make({ signal: controller.signal })
      const it = iteratorOf(h)
      await within(it.return!())
      controller.abort()
      expect(h.stops()).toBe(1)
    })

    it('a for await loop ends when the signal aborts', async () => {
      const controller = new AbortController()
      const h = make({ signal: controller.signal })
      const seen: Label[] = []
      const run = (async () => {
        let guard = 0
        for await (const item of h.iterable) {
          seen.push(labelOf({ done: false, value: item }))
          if (++guard > 50) throw new Error('runaway loop')
        }
      })()
      await settle()
      h.emit(1)
      h.emit(2)
      await settle()
      controller.abort()
      await within(run)
      expect(seen).toEqual([1, 2])
      expect(h.stops()).toBe(1)
      expect(h.live()).toBe(0)
    })

    it('an already-aborted signal: the source is never started, the iteration is empty', async () => {
      const h = make({ signal: AbortSignal.abort() })
      const it = iteratorOf(h)
      expect(h.starts()).toBe(0)
      expect(h.live()).toBe(0)
      h.emit(1)
      expect(await within(it.next())).toEqual({ done: true, value: undefined })
      await within(it.return!())
      expect(h.starts()).toBe(0)
      expect(h.stops()).toBe(0)
    })

    it('detaches its abort listener from the signal when it ends', async () => {
      const controller = new AbortController()
      const signal = controller.signal
      const attached = new Set<unknown>()
      const add = signal.addEventListener.bind(signal)
      const remove = signal.removeEventListener.bind(signal)
      signal.addEventListener = ((type: string, listener: EventListenerOrEventListenerObject, options?: AddEventListenerOptions) => {
        if (type === 'abort') attached.add(listener)
        add(type, listener, options)
      }) as typeof signal.addEventListener
      signal.removeEventListener = ((type: string, listener: EventListenerOrEventListenerObject, options?: EventListenerOptions) => {
        if (type === 'abort') attached.delete(listener)
        remove(type, listener, options)
      }) as typeof signal.removeEventListener
      const h = make({ signal })
      const it = iteratorOf(h)
      expect(attached.size).toBe(1)
      await within(it.return!())
      expect(attached.size).toBe(0)
    })
  })

  it('concurrent next() calls each settle, in order (none is lost)', async () => {
    const h = make()
    const it = iteratorOf(h)
    const first = track(it.next())
    const second = track(it.next())
    await settle()
    h.emit(1)
    h.emit(2)
    await settle()
    await within(it.return!())
    await settle()
    expect(first.settled).toBe(true)
    expect(second.settled).toBe(true)
    expect(first.result && labelOf(first.result)).toBe(1)
    expect(second.result && labelOf(second.result)).toBe(2)
  })
})

describe('fromCallback: sink and start', () => {
  function source(start: (sink: PushSink<number>) => void, options?: PushOptions) {
    let sink: PushSink<number> | undefined
    let stops = 0
    const iterable = fromCallback<number>((s) => {
      sink = s
      start(s)
      return () => {
        stops++
      }
    }, options)
    const it = iterable[Symbol.asyncIterator]()
    return { it, sink: () => sink!, stops: () => stops }
  }

  it('sink.end(): buffered events are still delivered, then done; stop runs once', async () => {
    const s = source(() => {})
    s.sink().push(1)
    s.sink().push(2)
    s.sink().end()
    expect(s.stops()).toBe(1)
    expect(await pull(s.it, 3)).toEqual([1, 2, 'done'])
    s.sink().end()
    s.sink().push(3) // pushes after end are ignored
    expect(await pull(s.it, 1)).toEqual(['done'])
    expect(s.stops()).toBe(1)
  })

  it('sink.end() while next() is pending resolves it done', async () => {
    const s = source(() => {})
    const pending = await expectPending(s.it)
    s.sink().end()
    expect(await within(pending.promise)).toEqual({ done: true, value: undefined })
    expect(s.stops()).toBe(1)
  })

  it('sink.fail(err) while next() is pending rejects it with err once, then done', async () => {
    const s = source(() => {})
    const pending = await expectPending(s.it)
    const error = new Error('boom')
    s.sink().fail(error)
    await expect(within(pending.promise)).rejects.toBe(error)
    expect(await within(s.it.next())).toEqual({ done: true, value: undefined })
    expect(await within(s.it.next())).toEqual({ done: true, value: undefined })
    expect(s.stops()).toBe(1)
  })

  it('sink.fail(err) with events buffered: the events, then err once, then done', async () => {
    const s = source(() => {})
    s.sink().push(1)
    s.sink().push(2)
    const error = new RpcError('NOT_FOUND', 'gone')
    s.sink().fail(error)
    expect(s.stops()).toBe(1)
    expect(await pull(s.it, 2)).toEqual([1, 2])
    await expect(within(s.it.next())).rejects.toBe(error)
    expect(await within(s.it.next())).toEqual({ done: true, value: undefined })
  })

  it('sink.fail() without an error still rejects with an Error', async () => {
    const s = source(() => {})
    s.sink().fail(undefined)
    await expect(within(s.it.next())).rejects.toBeInstanceOf(Error)
    expect(await within(s.it.next())).toEqual({ done: true, value: undefined })
  })

  it('calls after the first end/fail are ignored', async () => {
    const s = source(() => {})
    s.sink().end()
    s.sink().fail(new Error('late'))
    s.sink().push(1)
    expect(await within(s.it.next())).toEqual({ done: true, value: undefined })
    expect(s.stops()).toBe(1)

    const t = source(() => {})
    const error = new Error('first')
    t.sink().fail(error)
    t.sink().fail(new Error('second'))
    t.sink().end()
    await expect(within(t.it.next())).rejects.toBe(error)
    expect(await within(t.it.next())).toEqual({ done: true, value: undefined })
    expect(t.stops()).toBe(1)
  })

  it('a start that throws: the first next() rejects with that error, then done', async () => {
    const error = new Error('cannot start')
    const it = fromCallback<number>(() => {
      throw error
    })[Symbol.asyncIterator]()
    await expect(within(it.next())).rejects.toBe(error)
    expect(await within(it.next())).toEqual({ done: true, value: undefined })
  })

  it('a start that throws surfaces the error in for await', async () => {
    const error = new Error('cannot start')
    const run = (async () => {
      for await (const _ of fromCallback<number>(() => {
        throw error
      })) {
        throw new Error('no value expected')
      }
    })()
    await expect(within(run)).rejects.toBe(error)
  })

  it('a start that calls sink.end() before returning its stop function still gets stop called, once', async () => {
    let stops = 0
    const it = fromCallback<number>((sink) => {
      sink.push(1)
      sink.end()
      return () => {
        stops++
      }
    })[Symbol.asyncIterator]()
    expect(stops).toBe(1)
    expect(await pull(it, 2)).toEqual([1, 'done'])
    await within(it.return!())
    expect(stops).toBe(1)
  })

  it('a start that calls sink.fail() before returning its stop function gets stop called and the error surfaces', async () => {
    let stops = 0
    const error = new Error('early')
    const it = fromCallback<number>((sink) => {
      sink.fail(error)
      return () => {
        stops++
      }
    })[Symbol.asyncIterator]()
    expect(stops).toBe(1)
    await expect(within(it.next())).rejects.toBe(error)
    expect(await within(it.next())).toEqual({ done: true, value: undefined })
    expect(stops).toBe(1)
  })

  it('a start that aborts the signal synchronously gets stop called once', async () => {
    const controller = new AbortController()
    let stops = 0
    const it = fromCallback<number>(
      () => {
        controller.abort()
        return () => {
          stops++
        }
      },
      { signal: controller.signal },
    )[Symbol.asyncIterator]()
    expect(stops).toBe(1)
    expect(await within(it.next())).toEqual({ done: true, value: undefined })
    expect(stops).toBe(1)
  })

  it('a start that returns nothing can still end and be returned', async () => {
    let sink: PushSink<number> | undefined
    const it = fromCallback<number>((s) => {
      sink = s
    })[Symbol.asyncIterator]()
    sink!.push(1)
    expect(await pull(it, 1)).toEqual([1])
    await within(it.return!())
    expect(await within(it.next())).toEqual({ done: true, value: undefined })
  })

  it('a stop function that re-enters the sink is not called twice', async () => {
    let stops = 0
    let sink: PushSink<number> | undefined
    const it = fromCallback<number>((s) => {
      sink = s
      return () => {
        stops++
        s.push(99)
        s.end()
        s.fail(new Error('from stop'))
      }
    })[Symbol.asyncIterator]()
    sink!.end()
    expect(stops).toBe(1)
    expect(await within(it.next())).toEqual({ done: true, value: undefined })
    await within(it.return!())
    expect(stops).toBe(1)
  })

  it('with an already-aborted signal, start never runs', async () => {
    let starts = 0
    const it = fromCallback<number>(
      () => {
        starts++
      },
      { signal: AbortSignal.abort() },
    )[Symbol.asyncIterator]()
    expect(starts).toBe(0)
    expect(await within(it.next())).toEqual({ done: true, value: undefined })
    expect(starts).toBe(0)
  })

  it("with 'drop-oldest', releases the events it dropped even if the consumer never pulls", async () => {
    let sink: PushSink<object> | undefined
    const it = fromCallback<object>((s) => {
      sink = s
    }, { maxBuffer: 10 })[Symbol.asyncIterator]()
    const refs: WeakRef<object>[] = []
    for (let i = 0; i < 5_000; i++) {
      const event = { n: i, pad: new Array<number>(16).fill(i) }
      refs.push(new WeakRef(event))
      sink!.push(event)
    }
    // control: an object nothing holds must be collected, proving the GC really ran
    let control: object | undefined = { control: true }
    const controlRef = new WeakRef(control)
    control = undefined
    await collectGarbage()
    expect(controlRef.deref()).toBeUndefined()

    const retainedDropped = refs.slice(0, refs.length - 10).filter((ref) => ref.deref() !== undefined).length
    expect(retainedDropped).toBe(0)
    // the newest ten are still deliverable
    const first = await within(it.next())
    expect(isResync(first.value)).toBe(true)
    const next = await within(it.next())
    expect((next.value as { n: number }).n).toBe(4_990)
    await within(it.return!())
  })
})

describe('fromEmitter: specifics', () => {
  it('yields the first argument of each emit', async () => {
    const emitter = new EventEmitter()
    const it = fromEmitter<string>(emitter, 'msg')[Symbol.asyncIterator]()
    emitter.emit('msg', 'a', 'ignored', 3)
    emitter.emit('msg', 'b')
    expect((await within(it.next())).value).toBe('a')
    expect((await within(it.next())).value).toBe('b')
    await within(it.return!())
    expect(emitter.listenerCount('msg')).toBe(0)
  })

  it('works with symbol event names and leaves other listeners alone', async () => {
    const emitter = new EventEmitter()
    const event = Symbol('evt')
    const other = (): void => {}
    emitter.on(event, other)
    const it = fromEmitter<number>(emitter, event)[Symbol.asyncIterator]()
    expect(emitter.listenerCount(event)).toBe(2)
    emitter.emit(event, 7)
    expect((await within(it.next())).value).toBe(7)
    await within(it.return!())
    expect(emitter.listeners(event)).toEqual([other])
  })

  it('falls back to removeListener for emitters without off()', async () => {
    const listeners = new Set<(...args: unknown[]) => void>()
    let removals = 0
    const emitter: EmitterLike & { emit(value: unknown): void } = {
      on: (_event, listener) => {
        listeners.add(listener)
      },
      removeListener: (_event, listener) => {
        removals++
        listeners.delete(listener)
      },
      emit: (value) => {
        for (const listener of [...listeners]) listener(value)
      },
    }
    const controller = new AbortController()
    const it = fromEmitter<number>(emitter, 'x', { signal: controller.signal })[Symbol.asyncIterator]()
    expect(listeners.size).toBe(1)
    emitter.emit(5)
    expect((await within(it.next())).value).toBe(5)
    controller.abort()
    expect(listeners.size).toBe(0)
    expect(removals).toBe(1)
    expect(await within(it.next())).toEqual({ done: true, value: undefined })
  })
})

describe('fromEventTarget: specifics', () => {
  it('yields the very Event objects dispatched, of the requested type only', async () => {
    const target = new EventTarget()
    const it = fromEventTarget<Event>(target, 'ping')[Symbol.asyncIterator]()
    const a = new Event('ping')
    const b = new Event('ping')
    target.dispatchEvent(new Event('other'))
    target.dispatchEvent(a)
    target.dispatchEvent(b)
    const first = await within(it.next())
    const second = await within(it.next())
    expect(first.value).toBe(a)
    expect(second.value).toBe(b)
    await expectPending(it)
    await within(it.return!())
  })

  it('removes exactly the listener it added', async () => {
    const target = new CountingTarget()
    const it = fromEventTarget<Event>(target, 'tick')[Symbol.asyncIterator]()
    const [listener] = [...target.attached]
    expect(target.attached.size).toBe(1)
    await within(it.return!())
    expect(target.removes).toBe(1)
    expect(target.attached.has(listener)).toBe(false)
    target.dispatchEvent(new TickEvent(1))
    expect(await within(it.next())).toEqual({ done: true, value: undefined })
  })
})

// Type-level sanity: the resync signal is part of the element type.
const _typecheck: AsyncIterable<number | ResyncSignal> = fromCallback<number>(() => {})
void _typecheck
