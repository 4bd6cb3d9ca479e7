import { createChannel, memoryChannelBackend } from '@wirecall/server'
import { describeChannelConformance, type ConformanceBehaviour } from './conformance'

/**
 * The conformance suite for the two channels that live in one process: the
 * in-memory ring (`createChannel()` with no backend: ids `epoch.n`, one
 * stream per channel object) and `memoryChannelBackend()` (the backend
 * contract in memory: two channels of one name on one backend are two
 * nodes on one stream).
 */

/** Ids `prefix.n` (both kinds here write them so): the same prefix, `n` far ahead. */
const farAhead = (id: string): string => `${id.slice(0, id.lastIndexOf('.'))}.${Number(id.slice(id.lastIndexOf('.') + 1)) + 1_000}`

const ring: ConformanceBehaviour = {
  shared: false,
  positionTakenAt: 'subscribe',
  slowSubscriber: 'lagging',
  futureIdReason: 'unknown-id',
  futureId: farAhead,
  foreignIdReasons: ['unknown-id'],
  positionBeforeFirstEvent: true,
}

const memoryBackend: ConformanceBehaviour = {
  shared: true,
  positionTakenAt: 'ready',
  slowSubscriber: 'catch-up',
  futureIdReason: 'position-lost',
  futureId: farAhead,
  // Another stream's id has the same shape and another epoch: the stream it names is "gone".
  foreignIdReasons: ['stream-reset', 'unknown-id'],
  positionBeforeFirstEvent: true,
}

describeChannelConformance('in-memory ring: createChannel()', async () => ({
  make: ({ name, ...options }) => createChannel({ ...options, name }),
  behaviour: ring,
  cleanup: async () => {},
}))

describeChannelConformance('memoryChannelBackend()', async () => {
  const backend = memoryChannelBackend()
  return {
    make: (options) => createChannel({ ...options, backend }),
    behaviour: memoryBackend,
    cleanup: async () => {},
  }
})
