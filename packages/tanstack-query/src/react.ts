import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react'
import type { ConnectionHandle, ConnectionState, Subscription } from '@wirecall/client'
import type { RpcError } from '@wirecall/core'
import type { RpcSubscriptionOptions, SubscriptionStatus } from './types'

/** What {@link useSubscription} returns. */
export interface SubscriptionResult<TEvent> {
  /**
   * `idle` (disabled, completed, or unsubscribed) -> `connecting` (sent, or
   * waiting for the connection: also after a drop, until the server has
   * resubscribed) -> `live` (started) -> `resyncing` (events were missed;
   * back to `live` with the next event). `error` is terminal: `reset()`
   * starts over.
   */
  status: SubscriptionStatus
  /** The latest event; kept through reconnects. */
  data: TEvent | undefined
  /** Why the subscription ended, when `status` is `error`. */
  error: RpcError | undefined
  /** Id of the latest tracked event. */
  lastEventId: string | undefined
  /** Unsubscribes and subscribes again, from scratch (`data` and `error` cleared). */
  reset(): void
}

type State<TEvent> = Omit<SubscriptionResult<TEvent>, 'reset'>

/** The subscription a hook holds, and the timer that ends it after an unmount unless a remount takes it back. */
interface Held {
  id: string
  stop(): void
  timer?: ReturnType<typeof setTimeout>
}

/**
 * Subscribes while the component is mounted and `options.enabled` holds;
 * a new input (a new key) or `reset()` subscribes again.
 *
 * Under React StrictMode the double mount opens one subscription on the
 * server: an unmount ends the subscription a macrotask later, and a mount
 * of the same key in between takes it back.
 *
 * @example
 * ```ts
 * const typing = useSubscription(wc.chat.typing.subscriptionOptions({ room }, { onData: show }))
 * typing.status // 'idle' | 'connecting' | 'live' | 'resyncing' | 'error'
 * ```
 */
export function useSubscription<TEvent>(options: RpcSubscriptionOptions<TEvent>): SubscriptionResult<TEvent> {
  const [state, setState] = useState(() => ({ status: options.enabled ? 'connecting' : 'idle' }) as State<TEvent>)
  const [run, setRun] = useState(0)
  // What the callbacks read: the latest options, the status last reported, the subscription held.
  const self = useRef<{ options: RpcSubscriptionOptions<TEvent>; status: SubscriptionStatus; held?: Held | undefined }>({ options, status: 'idle' }).current
  self.options = options
  const id = options.enabled ? `${run} ${options.queryHash}` : ''

  useEffect(() => {
    const to = (next: SubscriptionStatus, patch?: Partial<State<TEvent>>) => {
      if (self.status !== next) self.options.onStatusChange?.((self.status = next))
      setState((state) => ({ ...state, ...patch, status: next }))
    }
    let h = self.held
    if (h?.id === id) {
      clearTimeout(h.timer) // remounted (StrictMode) before the unmount's timer: keep the subscription
    } else {
      h?.stop()
      self.held = h = undefined
      if (id === '') {
        to('idle')
      } else {
        to('connecting', { data: undefined, error: undefined, lastEventId: undefined })
        const subscription: Subscription = self.options.subscribe({
          onStarted: (info) => (to('live'), self.options.onStarted?.(info)),
          onData: (data) => (to('live', { data, lastEventId: subscription.lastEventId }), self.options.onData?.(data)),
          onResync: (signal) => (to('resyncing'), self.options.onResync?.(signal)),
          onError: (error) => (to('error', { error }), self.options.onError?.(error)),
          onComplete: () => (to('idle'), self.options.onComplete?.()),
        })
        // A dropped connection sends a started subscription back to pending: `connecting` until the server has started it
        // again. (A client closed for good ends it with an error instead.)
        const off = self.options.connection.on('state', (state) => {
          if (state === 'reconnecting' && (self.status === 'live' || self.status === 'resyncing')) to('connecting')
        })
        const current: Held = (h = self.held =
          {
            id,
            stop: () => {
              clearTimeout(current.timer)
              subscription.unsubscribe()
              off()
              if (self.held === current) self.held = undefined
              if (self.status !== 'error') to('idle')
            },
          })
      }
    }
    return () => {
      if (h !== undefined) h.timer = setTimeout(h.stop)
    }
  }, [id])

  const reset = useCallback(() => setRun((n) => n + 1), [])
  return { ...state, reset }
}

/**
 * The client's connection state, re-rendering on every change:
 * `'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'` (`idle`
 * for a lazy client with nothing to do, as on the server).
 */
export function useConnectionState(api: { readonly $connection: ConnectionHandle }): ConnectionState {
  const connection = api.$connection
  const subscribe = useCallback((onChange: () => void) => connection.on('state', onChange), [connection])
  const read = () => connection.state
  return useSyncExternalStore(subscribe, read, read)
}
