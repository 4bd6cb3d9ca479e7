import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushMicrotasks, observe } from '../../../tests/helpers/async'
import { FlowControl } from '../src/session/flow-control'
import type { RpcSocket } from '../src/session/socket'

const options = { highWaterMark: 1_000, lowWaterMark: 250, maxBufferedAmount: 8_000, slowConsumerTimeoutMs: 30_000 }

/** An {@link RpcSocket} whose `bufferedAmount` the test sets, with or without `onDrain`. */
class BufferSocket implements RpcSocket {
  readonly protocol = 'wirecall.v1'
  bufferedAmount = 0
  /** The listeners registered through `onDrain` and not yet removed. */
  readonly drainListeners = new Set<() => void>()
  onDrain?: (listener: () => void) => () => void

  constructor(withDrain: boolean) {
    if (withDrain) {
      this.onDrain = (listener) => {
        this.drainListeners.add(listener)
        return () => {
          this.drainListeners.delete(listener)
        }
      }
    }
  }

  send(): void {}
  close(): void {}
  terminate(): void {}

  /** The buffer went down to `bytes` and the socket says so. */
  drain(bytes: number): void {
    this.bufferedAmount = bytes
    for (const listener of [...this.drainListeners]) listener()
  }
}


function setup(withDrain: boolean) {
  const socket = new BufferSocket(withDrain)
  const slow = vi.fn<(reason: string) => void>()
  const flow = new FlowControl(socket, options, slow)
  /** One write that leaves `bytes` in the socket's buffer. */
  const write = (bytes: number) => {
    socket.bufferedAmount = bytes
    flow.wrote()
  }
  return { socket, slow, flow, write }
}

describe('FlowControl', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('does nothing while bufferedAmount stays at or below the high-water mark', async () => {
    const { socket, slow, flow, write } = setup(true)
    write(500)
    write(options.highWaterMark)
    expect(flow.congested).toBe(false)
    const writable = observe(flow.writable())
    await flushMicrotasks()
    expect(writable.settled).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
    expect(socket.drainListeners.size).toBe(0)
    expect(slow).not.toHaveBeenCalled()
  })

  it('becomes congested above the high-water mark, and writable() waits', async () => {
    const { flow, write } = setup(true)
    write(options.highWaterMark + 1)
    expect(flow.congested).toBe(true)
    const writable = observe(flow.writable())
    await flushMicrotasks()
    expect(writable.settled).toBe(false)
  })

  it('arms one slow-consumer timer, one poll and one drain watch however many writes find it congested', () => {
    const { socket, write } = setup(true)
    write(2_000)
    write(3_000)
    write(4_000)
    expect(vi.getTimerCount()).toBe(2)
    expect(socket.drainListeners.size).toBe(1)
  })

  it('resumes on a drain event once bufferedAmount is at or below the low-water mark, not before', async () => {
    const { socket, slow, flow, write } = setup(true)
    write(2_000)
    const writable = observe(flow.writable())

    socket.drain(options.lowWaterMark + 1)
    await flushMicrotasks()
    expect(flow.congested).toBe(true)
    expect(writable.settled).toBe(false)

    socket.drain(options.lowWaterMark)
    await flushMicrotasks()
    expect(flow.congested).toBe(false)
    expect(writable.settled).toBe(true)
    expect(socket.drainListeners.size).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(options.slowConsumerTimeoutMs * 2)
    expect(slow).not.toHaveBeenCalled()
  })

  it('also looks every 100 ms when the socket has onDrain, in case a drain event is missed', async () => {
    const { socket, flow, write } = setup(true)
    write(2_000)
    const writable = observe(flow.writable())
    socket.bufferedAmount = 0 // drained without an event
    vi.advanceTimersByTime(99)
    expect(flow.congested).toBe(true)
    vi.advanceTimersByTime(1)
    expect(flow.congested).toBe(false)
    await flushMicrotasks()
    expect(writable.settled).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('polls every 10 ms when the socket has no onDrain, and resumes at the low-water mark', async () => {
    const { socket, flow, write } = setup(false)
    write(2_000)
    const writable = observe(flow.writable())

    socket.bufferedAmount = options.lowWaterMark + 1
    vi.advanceTimersByTime(10)
    expect(flow.congested).toBe(true)
    expect(vi.getTimerCount()).toBe(2) // the slow-consumer timer and the next poll

    socket.bufferedAmount = options.lowWaterMark
    vi.advanceTimersByTime(9)
    expect(flow.congested).toBe(true)
    vi.advanceTimersByTime(1)
    expect(flow.congested).toBe(false)
    await flushMicrotasks()
    expect(writable.settled).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('wakes every waiter when it resumes', async () => {
    const { socket, flow, write } = setup(true)
    write(2_000)
    const waiters = [observe(flow.writable()), observe(flow.writable()), observe(flow.writable())]
    socket.drain(0)
    await flushMicrotasks()
    expect(waiters.map((w) => w.settled)).toEqual([true, true, true])
  })

  it('calls slow at once, with the documented reason, when bufferedAmount goes over maxBufferedAmount', () => {
    const { slow, write } = setup(true)
    write(options.maxBufferedAmount)
    expect(slow).not.toHaveBeenCalled()
    write(options.maxBufferedAmount + 1)
    expect(slow).toHaveBeenCalledTimes(1)
    expect(slow).toHaveBeenCalledWith('slow consumer: more than 8000 bytes waiting to be read')
  })

  it('calls slow at once when the first write it sees is already over maxBufferedAmount', () => {
    const { slow, write } = setup(true)
    write(options.maxBufferedAmount + 1)
    expect(slow).toHaveBeenCalledWith('slow consumer: more than 8000 bytes waiting to be read')
  })

  it('calls slow when the reader stays behind for slowConsumerTimeoutMs, with the documented reason', () => {
    const { slow, write } = setup(true)
    write(2_000)
    vi.advanceTimersByTime(options.slowConsumerTimeoutMs - 1)
    expect(slow).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(slow).toHaveBeenCalledTimes(1)
    expect(slow).toHaveBeenCalledWith('slow consumer: above 1000 bytes for 30000 ms')
  })

  it('counts slowConsumerTimeoutMs from the start of congestion while bufferedAmount stays above the low-water mark', () => {
    const { socket, slow, write } = setup(true)
    write(2_000)
    vi.advanceTimersByTime(10_000)
    socket.drain(options.highWaterMark - 1) // under the high-water mark, not yet under the low one: still behind
    vi.advanceTimersByTime(options.slowConsumerTimeoutMs - 10_000)
    expect(slow).toHaveBeenCalledTimes(1)
  })

  it('restarts the slow-consumer clock when a reader catches up before slowConsumerTimeoutMs', () => {
    const { socket, slow, write } = setup(true)
    write(2_000)
    vi.advanceTimersByTime(options.slowConsumerTimeoutMs - 1_000)
    socket.drain(0)
    write(2_000)
    vi.advanceTimersByTime(options.slowConsumerTimeoutMs - 1)
    expect(slow).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(slow).toHaveBeenCalledTimes(1)
  })

  it.each([
    ['with onDrain', true],
    ['without onDrain', false],
  ])('stop() wakes every waiter and clears every timer and drain watch (%s)', async (_, withDrain) => {
    const { socket, slow, flow, write } = setup(withDrain)
    write(2_000)
    const waiters = [observe(flow.writable()), observe(flow.writable())]
    flow.stop()
    await flushMicrotasks()
    expect(waiters.map((w) => w.settled)).toEqual([true, true])
    expect(flow.congested).toBe(false)
    expect(vi.getTimerCount()).toBe(0)
    expect(socket.drainListeners.size).toBe(0)
    vi.advanceTimersByTime(options.slowConsumerTimeoutMs * 2)
    expect(slow).not.toHaveBeenCalled()
  })

  it('does nothing on writes after stop(), even past maxBufferedAmount', async () => {
    const { socket, slow, flow, write } = setup(true)
    flow.stop()
    write(options.highWaterMark + 1)
    write(options.maxBufferedAmount + 1)
    expect(flow.congested).toBe(false)
    expect(slow).not.toHaveBeenCalled()
    expect(vi.getTimerCount()).toBe(0)
    expect(socket.drainListeners.size).toBe(0)
    const writable = observe(flow.writable())
    await flushMicrotasks()
    expect(writable.settled).toBe(true)
  })
})
