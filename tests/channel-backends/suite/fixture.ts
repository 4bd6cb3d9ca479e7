import { afterEach, beforeEach } from 'vitest'
import type { ChannelUnderTest, ConformanceBehaviour, ConformanceChannel } from './types'

/** What a conformance test works with: channels of the kind under test, closed after the test. */
export interface Channels {
  /**
   * A channel whose stream name is unique to this test (`name` within it,
   * default `feed`): two calls with the same `name` are two nodes' channels
   * on one stream when the kind is {@link ConformanceBehaviour.shared}.
   */
  make<T = Msg>(options?: { name?: string; history?: number; maxLag?: number }): ConformanceChannel<T>
  readonly behaviour: ConformanceBehaviour
}

/** The event the suite publishes: a number to check order by, and a Date to check the encoding round trip. */
export interface Msg {
  n: number
  at: Date
}

export const msg = (n: number): Msg => ({ n, at: new Date(Date.UTC(2024, 0, 1) + n * 1000) })

let runs = 0

/**
 * Runs `setup` before each test and its cleanup after it, having closed
 * every channel the test made (so no subscriber, tail or timer outlives it).
 */
export function useChannels(setup: () => Promise<ChannelUnderTest>): Channels {
  let current: ChannelUnderTest | undefined
  let made: ConformanceChannel<unknown>[] = []
  let prefix = ''
  beforeEach(async () => {
    // Unique per test and per worker, so a backend shared across tests (one redis-server) never mixes their streams.
    prefix = `c${process.pid}-${++runs}-${Math.random().toString(36).slice(2, 8)}`
    current = await setup()
  })
  afterEach(async () => {
    for (const channel of made) channel.close()
    made = []
    const done = current
    current = undefined
    await done?.cleanup()
  })
  const active = (): ChannelUnderTest => {
    if (current === undefined) throw new Error('channels are made inside a test')
    return current
  }
  return {
    make<T = Msg>(options: { name?: string; history?: number; maxLag?: number } = {}): ConformanceChannel<T> {
      const { name = 'feed', ...rest } = options
      const channel = active().make<T>({ ...rest, name: `${prefix}:${name}` })
      made.push(channel)
      return channel
    },
    get behaviour() {
      return active().behaviour
    },
  }
}
