/**
 * One client of the reconnect storm: subscribed to `feed` through its
 * library's normal client, and coming back by itself when the server
 * restarts (the contract's connections fail on a drop instead, on purpose).
 * Each implementation's is in its own file, loaded only by the process
 * that runs it.
 */
import type { ImplName } from '../../contract'

/** What a subscriber tells its client process. */
export interface SubscriberHooks {
  /** The server acknowledged the subscription: the first time, and again after every reconnect. */
  started(): void
  event(event: unknown): void
  /** The server could not resume the subscription (wirecall's `onResync`): counted, not a failure after a restart. */
  resync(): void
  /** A socket closed or an attempt failed, and why (a close code, a library's reason): counted, to explain a slow storm. */
  dropped(reason: string): void
  /** A reconnect attempt is scheduled `delayMs` from now (undefined where the library does not say). */
  retry(delayMs: number | undefined): void
  /** Something went wrong where no caller waits: fails the client process. */
  failed(error: Error): void
}

export interface StormSubscriber {
  /** Publishes `count` events to every `feed` subscriber through this client's connection; resolves once the server answered. */
  publish(count: number): Promise<void>
  /** Unsubscribes and closes for good (no reconnect). */
  close(): Promise<void>
}

/** Starts one subscriber of `port`'s feed, its connections leaving from `localAddress`. */
export type OpenSubscriber = (port: number, localAddress: string, hooks: SubscriberHooks) => StormSubscriber

/** The implementations the storm runs, with their subscribers. */
export const STORM_IMPLS = ['raw', 'wirecall', 'socketio'] as const satisfies readonly ImplName[]
export type StormImpl = (typeof STORM_IMPLS)[number]

const LOADERS: Record<StormImpl, () => Promise<OpenSubscriber>> = {
  raw: async () => (await import('./raw-subscriber')).openRawSubscriber,
  wirecall: async () => (await import('./wirecall-subscriber')).openWirecallSubscriber,
  socketio: async () => (await import('./socketio-subscriber')).openSocketioSubscriber,
}

export function loadSubscriber(impl: StormImpl): Promise<OpenSubscriber> {
  return LOADERS[impl]()
}

/** Checks what `publish` answered: the number of events published. */
export function checkPublished(impl: StormImpl, answer: unknown, count: number): void {
  const published = (answer as { published?: unknown } | null)?.published
  if (published !== count) throw new Error(`storm/${impl}: publish(${count}) answered ${JSON.stringify(answer)}`)
}
