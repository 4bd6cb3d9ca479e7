import type { TailListener } from '@wirecall/server'
import type { RedisConnection } from './connection'

/**
 * Volatile events travel by Redis pub/sub, one channel per stream; the
 * message is the publisher's newest id seen, a newline, then the encoded
 * fields (ids hold no newline).
 */
export function broadcastMessage(after: string | undefined, fields: string): string {
  return `${after ?? ''}\n${fields}`
}

/**
 * This node's one pub/sub connection (a `duplicate()` of the client, made
 * when the first stream is tailed): it subscribes to the volatile channel
 * of every stream tailed here, unsubscribes when the last local tail of a
 * stream closes, and hands each message to that stream's tails. node-redis
 * subscribes again by itself after a reconnect; what was published
 * meanwhile is lost, as volatile events may be.
 */
export class BroadcastSubscriber {
  private readonly channels = new Map<string, Set<TailListener>>()
  /** Channels Redis confirmed the subscription of: for tests and metrics. */
  private readonly confirmed = new Set<string>()
  private connecting: Promise<RedisConnection> | undefined
  private connection: RedisConnection | undefined
  private closed = false

  constructor(
    private readonly client: RedisConnection,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Pub/sub channels subscribed now. */
  get size(): number {
    return this.confirmed.size
  }

  /** Pub/sub connections held (0 or 1). */
  get connections(): number {
    return this.connection === undefined ? 0 : 1
  }

  /** Hands the volatile events of `channel` to `listener` until the returned function is called. */
  follow(channel: string, listener: TailListener): () => void {
    let listeners = this.channels.get(channel)
    if (listeners === undefined) {
      this.channels.set(channel, (listeners = new Set()))
      void this.subscribe(channel)
    }
    listeners.add(listener)
    const own = listeners
    return () => {
      if (!own.delete(listener) || own.size > 0 || this.channels.get(channel) !== own) return
      this.channels.delete(channel)
      void this.unsubscribe(channel)
    }
  }

  /** One function for every channel: subscribing twice (a quick unfollow and follow) adds it once. */
  private readonly deliver = (message: string, channel: string): void => {
    const listeners = this.channels.get(channel)
    if (listeners === undefined) return
    const newline = message.indexOf('\n')
    if (newline === -1) return
    const after = newline === 0 ? undefined : message.slice(0, newline)
    const fields = message.slice(newline + 1)
    for (const listener of [...listeners]) listener.volatile?.(fields, after)
  }

  private async subscribe(channel: string): Promise<void> {
    for (let attempt = 0; !this.closed && this.channels.has(channel); attempt++) {
      try {
        const connection = await this.connect()
        if (this.closed || !this.channels.has(channel)) return
        await connection.subscribe(channel, this.deliver)
        // Unfollowed while subscribing: its unsubscribe may have gone first.
        if (!this.channels.has(channel)) return void (await this.unsubscribe(channel))
        this.confirmed.add(channel)
        return
      } catch (error) {
        if (this.closed) return
        this.onError(error)
        await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 50 * 2 ** attempt)).unref())
      }
    }
  }

  private async unsubscribe(channel: string): Promise<void> {
    this.confirmed.delete(channel)
    const connection = this.connection
    if (connection === undefined || this.closed || this.channels.has(channel)) return
    try {
      await connection.unsubscribe(channel, this.deliver)
    } catch (error) {
      this.onError(error)
    }
  }

  private connect(): Promise<RedisConnection> {
    this.connecting ??= (async () => {
      const connection = this.client.duplicate()
      connection.on('error', (error) => this.onError(error))
      try {
        await connection.connect()
      } catch (error) {
        connection.destroy()
        this.connecting = undefined
        throw error
      }
      if (this.closed) {
        connection.destroy()
        throw new Error('closed')
      }
      this.connection = connection
      return connection
    })()
    return this.connecting
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.channels.clear()
    this.confirmed.clear()
    const connection = this.connection
    this.connection = undefined
    connection?.destroy()
    await this.connecting?.catch(() => {})
  }
}
