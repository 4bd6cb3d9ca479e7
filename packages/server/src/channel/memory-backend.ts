import type { ResyncReason } from '@wirecall/core'
import type { BackendEntry, BackendRead, BackendTail, ChannelBackend, TailListener } from './backend'

/** Options of {@link memoryChannelBackend}. */
export interface MemoryChannelBackendOptions {
  /**
   * Most events a resume may replay; further behind gets a
   * `too-far-behind` resync.
   * @default 10_000
   */
  maxReplay?: number
}

interface MemoryStream {
  readonly epoch: string
  /** Sequence number of the newest event; 0 before the first. */
  last: number
  /** The kept events, oldest first: numbers `last - entries.length + 1` to `last`. */
  readonly entries: BackendEntry[]
  readonly tails: Set<TailListener>
}

/**
 * The channel backend contract kept in this process: streams in memory,
 * ids `epoch.n`. For tests of code written against {@link ChannelBackend}
 * (two channels on one backend behave like two nodes on one Redis), and
 * the reference the conformance suite holds every backend to. The plain
 * `createChannel()` (no backend) keeps its synchronous ring, which is
 * faster and needs no name.
 *
 * @example
 * ```ts
 * const backend = memoryChannelBackend()
 * const a = createChannel<Message>({ backend, name: 'chat', history: 100 })
 * const b = createChannel<Message>({ backend, name: 'chat', history: 100 }) // sees what `a` publishes
 * ```
 */
export function memoryChannelBackend(options: MemoryChannelBackendOptions = {}): ChannelBackend {
  const maxReplay = Math.max(0, Math.floor(options.maxReplay ?? 10_000))
  const streams = new Map<string, MemoryStream>()
  let epochs = 0
  const streamOf = (name: string): MemoryStream => {
    let stream = streams.get(name)
    if (stream === undefined) {
      stream = { epoch: `m${(++epochs).toString(36)}${Math.random().toString(36).slice(2, 8)}`, last: 0, entries: [], tails: new Set() }
      streams.set(name, stream)
    }
    return stream
  }
  const idOf = (stream: MemoryStream, n: number) => `${stream.epoch}.${n}`
  const parse = (id: string): { epoch: string; n: number } | undefined => {
    const match = /^([a-z0-9]+)\.(0|[1-9]\d{0,14})$/.exec(id)
    return match === null ? undefined : { epoch: match[1]!, n: Number(match[2]) }
  }
  const resyncOf = (reason: ResyncReason): BackendRead => ({ kind: 'resync', reason })

  return {
    publish(name, fields, history) {
      const stream = streamOf(name)
      const entry: BackendEntry = { id: idOf(stream, ++stream.last), fields }
      stream.entries.push(entry)
      const keep = Math.max(1, history)
      if (stream.entries.length > keep) stream.entries.splice(0, stream.entries.length - keep)
      // Delivered after this publish resolves, as a networked backend would.
      const tails = [...stream.tails]
      queueMicrotask(() => {
        for (const tail of tails) if (stream.tails.has(tail)) tail.events([entry])
      })
      return Promise.resolve(entry.id)
    },

    read(name, after, limit) {
      const stream = streams.get(name)
      const id = parse(after)
      if (id === undefined) return Promise.resolve(resyncOf('unknown-id'))
      if (stream === undefined || id.epoch !== stream.epoch) return Promise.resolve(resyncOf('stream-reset'))
      if (id.n > stream.last) return Promise.resolve(resyncOf('position-lost'))
      const first = stream.last - stream.entries.length + 1
      // The event after `after` must still be kept (or `after` is the newest).
      if (id.n + 1 < first) return Promise.resolve(resyncOf('trimmed'))
      if (stream.last - id.n > maxReplay) return Promise.resolve(resyncOf('too-far-behind'))
      const from = id.n + 1 - first
      return Promise.resolve({ kind: 'events', events: stream.entries.slice(from, from + Math.max(1, limit)) })
    },

    broadcast(name, fields, after) {
      const stream = streams.get(name)
      if (stream === undefined || stream.tails.size === 0) return Promise.resolve()
      // Like a publish's delivery: after it resolves, and after the events published before it.
      const tails = [...stream.tails]
      queueMicrotask(() => {
        for (const tail of tails) if (stream.tails.has(tail)) tail.volatile?.(fields, after)
      })
      return Promise.resolve()
    },

    tail(name, listener): BackendTail {
      const stream = streamOf(name)
      let open = true
      queueMicrotask(() => {
        if (!open) return
        stream.tails.add(listener)
        // `epoch.0` before the first event: a position all the same, so a client that subscribed to an empty stream resumes without a gap.
        listener.started(idOf(stream, stream.last))
      })
      return {
        close() {
          open = false
          stream.tails.delete(listener)
        },
      }
    },

    compare(a, b) {
      const x = parse(a)
      const y = parse(b)
      return x === undefined || y === undefined || x.epoch !== y.epoch ? Number.NaN : x.n - y.n
    },

    delete(name) {
      const stream = streams.get(name)
      streams.delete(name)
      if (stream !== undefined && stream.tails.size > 0) {
        // Tails go on following the name, on the stream that starts afresh.
        const fresh = streamOf(name)
        for (const tail of stream.tails) {
          fresh.tails.add(tail)
          tail.reset('stream-reset', idOf(fresh, 0))
        }
      }
      return Promise.resolve()
    },
  }
}
