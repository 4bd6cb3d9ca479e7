import { describe } from 'vitest'
import { describeDelivery } from './suite/delivery.cases'
import { describeEndToEnd } from './suite/end-to-end.cases'
import { describeResume } from './suite/resume.cases'
import { describeResync } from './suite/resync.cases'
import { useChannels } from './suite/fixture'
import type { ChannelUnderTest } from './suite/types'

export type { ChannelUnderTest, ConformanceBehaviour, ConformanceChannel, ConformanceChannelOptions } from './suite/types'

/**
 * Registers `describe(name)` with the channel, resume and resync tests,
 * and the end-to-end ones over a real server on 127.0.0.1, for the channels
 * `setup` makes. `setup` runs before each test and its `cleanup` after it.
 *
 * @example
 * ```ts
 * describeChannelConformance('memory backend', async () => {
 *   const backend = memoryChannelBackend()
 *   return { make: (options) => createChannel({ ...options, backend }), behaviour, cleanup: async () => {} }
 * })
 * ```
 */
export function describeChannelConformance(name: string, setup: () => Promise<ChannelUnderTest>): void {
  describe(name, () => {
    const channels = useChannels(setup)
    describeDelivery(channels)
    describeResume(channels)
    describeResync(channels)
    describeEndToEnd(channels)
  })
}
