import { onTestFinished } from 'vitest'
import { WebSocket } from 'ws'
import { createRpcClient, type RpcClient, type Subscription } from '@wirecall/client'
import type { ResyncReason } from '@wirecall/core'
import { sleep, waitUntil } from '../helpers/async'
import type { NodeRouter } from './fixtures/node'

/**
 * Clients of the scale-out scenarios, in the test process: each a real
 * `createRpcClient` over its own WebSocket, subscribed to `feed`, keeping
 * everything it is told in order, so that a scenario can say precisely what
 * every client saw. Every client is closed after the test.
 */

/** What one subscriber saw, in order: a number per event, `resync:<reason>` per resync signal. */
export type FeedLog = (number | `resync:${ResyncReason | 'none'}`)[]

export type NodeClient = RpcClient<NodeRouter>

/** Small reconnect delays: a scenario waits for reconnects, ten runs in a row. */
export const RECONNECT = { minDelayMs: 20, maxDelayMs: 200 } as const

/** A client of the cluster at `url` (ws://…/rpc), closed after the test; `delays` collects the reconnect delays servers announce to it. */
export function nodeClient(url: string, options: { name?: string; reconnect?: false; delays?: number[] } = {}): NodeClient {
  const delays = options.delays
  const api = createRpcClient<NodeRouter>({
    url,
    WebSocket,
    reconnect: options.reconnect ?? RECONNECT,
    ...(options.name === undefined ? {} : { connectionParams: { name: options.name } }),
  })
  // The restart notice itself, whatever becomes of the close frame after it (a busy client may answer the close late and be cut off).
  if (delays !== undefined) api.$connection.on('restart', ({ delayMs }) => void delays.push(delayMs))
  onTestFinished(() => api.$connection.close())
  return api
}

/** One client subscribed to the feed (or a topic of it). */
export interface FeedSubscriber {
  readonly api: NodeClient
  readonly log: FeedLog
  readonly subscription: Subscription
  /** The numbers received, without the resyncs. */
  numbers(): number[]
  /** The resync reasons received, in order. */
  resyncs(): string[]
  /** Times the server started the subscription (1 + resubscribes after reconnects). */
  readonly starts: number
  /** The last number received, or 0. */
  last(): number
}

/** Subscribes `api` to the feed and resolves once the server started the subscription. */
export async function subscribeFeed(api: NodeClient, options: { topic?: string; lastEventId?: string } = {}): Promise<FeedSubscriber> {
  const log: FeedLog = []
  let starts = 0
  let failure: Error | undefined
  const input = options.topic === undefined ? undefined : { topic: options.topic }
  const subscription = api.feed.subscribe(input, {
    ...(options.lastEventId === undefined ? {} : { lastEventId: options.lastEventId }),
    onStarted: () => void starts++,
    onData: (n) => void log.push(n),
    onResync: (signal) => void log.push(`resync:${signal.reason ?? 'none'}`),
    onError: (error) => void (failure = error),
  })
  await waitUntil(() => starts > 0 || failure !== undefined, 'the feed subscription to start', 10_000)
  if (failure !== undefined) throw failure
  return {
    api,
    log,
    subscription,
    numbers: () => log.filter((entry): entry is number => typeof entry === 'number'),
    resyncs: () => log.filter((entry): entry is `resync:${ResyncReason}` => typeof entry === 'string'),
    get starts() {
      return starts
    },
    last() {
      for (let i = log.length - 1; i >= 0; i--) {
        const entry = log[i]
        if (typeof entry === 'number') return entry
      }
      return 0
    },
  }
}

/** `count` clients on `url`, each subscribed to the feed; resolves once every subscription started. */
export async function feedSubscribers(url: string, count: number, options: { topic?: string } = {}): Promise<FeedSubscriber[]> {
  return Promise.all(Array.from({ length: count }, () => subscribeFeed(nodeClient(url), options)))
}

/** `from..to`, for comparing logs. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)
}

/** Waits until every subscriber's last number is `n` (or later); the timeout names how far behind the others are. */
export async function untilAllReceived(subscribers: readonly FeedSubscriber[], n: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!subscribers.every((subscriber) => subscriber.last() >= n)) {
    if (Date.now() > deadline) {
      const behind = subscribers.filter((subscriber) => subscriber.last() < n)
      throw new Error(`timed out after ${timeoutMs} ms waiting for every client to receive ${n}: ${behind.length} behind, e.g. ${behind.slice(0, 3).map((subscriber) => JSON.stringify(subscriber.log.slice(-5))).join(' ')}`)
    }
    await sleep(5)
  }
}
