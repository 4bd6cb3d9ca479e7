/**
 * The resume case's wirecall client: `createRpcClient` with its defaults
 * (reconnect on), subscribed to the feed with callbacks. After a drop the
 * client reconnects and resubscribes by itself with the subscription's
 * `lastEventId`, which is what is measured.
 *
 * Two hooks, both through documented options, let the case control the
 * drop and the reconnect: the `WebSocket` option is `ws`'s class, subclassed
 * only to keep the socket at hand (so the case can terminate it); the `url`
 * option is a function (called on every connect), which waits at a gate
 * while the case publishes what the client is to miss.
 */
import { createRpcClient } from '@wirecall/client'
import WebSocket from 'ws'
import { Mismatch } from '../../cases/verify'
import { failLater } from '../../impls/util'
import type { Resumer } from './resumer'
import type { FeedRouter } from './wirecall-feed'

/** A reconnect held until the case lets it go. */
class Gate {
  private closed = false
  private waiting: (() => void)[] = []
  private onHeld: (() => void) | undefined

  /** Resolves at once while open; while closed, once {@link open} is called. */
  pass(): Promise<void> {
    if (!this.closed) return Promise.resolve()
    return new Promise((resolve) => {
      this.waiting.push(resolve)
      this.onHeld?.()
    })
  }

  /** Closes the gate; the promise resolves once someone waits at it. */
  close(): Promise<void> {
    this.closed = true
    return new Promise((resolve) => {
      this.onHeld = () => {
        this.onHeld = undefined
        resolve()
      }
    })
  }

  open(): void {
    this.closed = false
    for (const go of this.waiting.splice(0)) go()
  }
}

export function wirecallResumer(): Resumer {
  let socket: WebSocket | undefined
  class ReachableWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols)
      socket = this
    }
  }
  const gate = new Gate()
  let api: ReturnType<typeof createRpcClient<FeedRouter>> | undefined
  let closing = false
  /** What the next `onStarted` settles: the first start, or a resume. */
  let nextStart: { resolve(): void; reject(error: Error): void; resuming: boolean } | undefined

  return {
    start(port, onEvent) {
      const url = `ws://127.0.0.1:${port}/rpc`
      api = createRpcClient<FeedRouter>({ url: () => gate.pass().then(() => url), WebSocket: ReachableWebSocket })
      return new Promise<void>((resolve, reject) => {
        nextStart = { resolve, reject, resuming: false }
        api!.feed.subscribe(undefined, {
          onStarted: ({ resumed }) => {
            const waiter = nextStart
            nextStart = undefined
            if (waiter === undefined) return failLater(new Mismatch('resume/wirecall: the feed started again unasked'))
            if (waiter.resuming && !resumed) waiter.reject(new Mismatch('resume/wirecall: the feed restarted without resuming (resumed: false)'))
            else waiter.resolve()
          },
          onData: onEvent,
          onResync: () => failLater(new Mismatch('resume/wirecall: resync (the history did not reach back to the last event seen)')),
          onError: (error) => {
            if (!closing) failLater(new Mismatch(`resume/wirecall: the feed failed: ${error.code} ${error.message}`))
          },
          onComplete: () => failLater(new Mismatch('resume/wirecall: the feed completed')),
        })
      })
    },

    async drop() {
      const connection = api!.$connection
      const held = gate.close()
      const lost = new Promise<void>((resolve) => {
        const stop = connection.on('state', (state) => {
          if (state !== 'reconnecting') return
          stop()
          resolve()
        })
      })
      if (socket === undefined) throw new Error('resume/wirecall: no socket to drop')
      socket.terminate()
      await lost
      // After its backoff the client calls `url()` again, and waits at the gate.
      await held
    },

    resume() {
      const resumed = new Promise<void>((resolve, reject) => {
        nextStart = { resolve, reject, resuming: true }
      })
      gate.open()
      return resumed
    },

    async close() {
      closing = true
      await api?.$connection.close()
    },
  }
}
