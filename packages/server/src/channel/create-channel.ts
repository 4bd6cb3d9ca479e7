import { createChannel as createMemoryChannel, type Channel, type ChannelOptions } from '@wirecall/core'
import { BackendChannel, type BackedChannel, type BackedChannelOptions } from './backed-channel'

/**
 * Creates a channel: publish once, and every subscriber gets the event, in
 * order, with bounded history for resuming.
 *
 * Without a backend, the channel lives in this process (a ring buffer read
 * by every subscriber with its own cursor; `publish` returns the id at
 * once). With `backend` (`redisChannelBackend` from `@wirecall/redis`),
 * events live there: published on any node, delivered to subscribers on
 * every node, resumable on any node; `publish` then resolves to the id
 * once the backend stored the event.
 *
 * @example
 * ```ts
 * const messages = createChannel<Message>({ history: 100 })
 * // on several processes, one Redis:
 * const shared = createChannel<Message>({ history: 100, name: 'chat', backend: redisChannelBackend({ client }) })
 * await shared.publish({ text: 'hi' })
 * ```
 */
export function createChannel<T, TMember = unknown>(options?: ChannelOptions & { backend?: undefined }): Channel<T, TMember>
export function createChannel<T, TMember = unknown>(options: BackedChannelOptions): BackedChannel<T, TMember>
export function createChannel<T, TMember = unknown>(options: (ChannelOptions & { backend?: undefined }) | BackedChannelOptions = {}): Channel<T, TMember> | BackedChannel<T, TMember> {
  if (options.backend === undefined) return createMemoryChannel<T, TMember>(options)
  return new BackendChannel<T, TMember>(options)
}
