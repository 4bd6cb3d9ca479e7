import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { act, render, type RenderResult } from '@testing-library/react'
import { StrictMode, type ReactNode } from 'react'
import { onTestFinished } from 'vitest'
import WebSocket from 'ws'
import type { WebSocketConstructor } from '@wirecall/client'
import { createQueryUtils } from '@wirecall/tanstack-query'
import { connectClient, startServer } from '../../helpers/harness'
import { createTestRouter, type TestRouter } from './router'

/**
 * React for the TanStack Query tests: a fresh QueryClient per test, a
 * render that is unmounted after the test, and a WebSocket class whose
 * sockets and sent frames the test can see. The test files run in a DOM
 * (happy-dom, chosen per file with `@vitest-environment`); sockets are real
 * (`ws`, to 127.0.0.1).
 */

// React's act() warnings are for updates a test forgets to await; here they come from the network on purpose.
;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false

/** A QueryClient with no retries (errors show at once), cleared after the test. */
export function testQueryClient(): QueryClient {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } })
  onTestFinished(() => queryClient.clear())
  return queryClient
}

/** Renders `ui` inside a QueryClientProvider (and StrictMode, when asked); unmounted after the test. */
export function renderWith(queryClient: QueryClient, ui: ReactNode, options: { strict?: boolean } = {}): RenderResult {
  const tree = <QueryClientProvider client={queryClient}>{ui}</QueryClientProvider>
  const result = render(options.strict === true ? <StrictMode>{tree}</StrictMode> : tree)
  onTestFinished(() => act(() => result.unmount()))
  return result
}

/** What {@link trackedSockets} gives a test. */
export interface TrackedSockets {
  /** Pass as the client's `WebSocket` option. */
  WebSocket: WebSocketConstructor
  /** Every socket the client opened, oldest first. */
  sockets: WebSocket[]
  /** Every frame the client sent, parsed (batches flattened), in order. */
  sent: Record<string, unknown>[]
  /** Cuts the newest socket without a closing handshake, as a network drop would (the client sees 1006). */
  drop(): void
  /**
   * While on, new sockets dial a port where nothing listens (127.0.0.1:9),
   * so every reconnect attempt fails and the client stays `reconnecting`
   * until it is turned off: a window a test can observe, where a real
   * reconnect (full jitter, from 0 ms) may close before a poll sees it.
   */
  refuse(on: boolean): void
}

/** A `ws` WebSocket class whose sockets and sent frames the test can reach. */
export function trackedSockets(): TrackedSockets {
  const sockets: WebSocket[] = []
  const sent: Record<string, unknown>[] = []
  let refusing = false
  class TrackedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(refusing ? 'ws://127.0.0.1:9/' : url, protocols)
      sockets.push(this)
      const send = this.send.bind(this)
      this.send = ((data: string) => {
        const parsed = JSON.parse(data) as unknown
        for (const frame of Array.isArray(parsed) ? parsed : [parsed]) sent.push(frame as Record<string, unknown>)
        send(data)
      }) as typeof this.send
    }
  }
  const drop = () => sockets.at(-1)!.terminate()
  const refuse = (on: boolean) => {
    refusing = on
  }
  return { WebSocket: TrackedWebSocket, sockets, sent, drop, refuse }
}

/**
 * A server of the test router on 127.0.0.1, a client with tracked sockets
 * and a short backoff, its query utils (prefix `wc`) and a fresh
 * QueryClient; all closed after the test.
 */
export async function startTestApp(options: { history?: number } = {}) {
  const test = createTestRouter(options)
  const sockets = trackedSockets()
  const { url, server } = await startServer({ router: test.router })
  const api = connectClient<TestRouter>(url, { WebSocket: sockets.WebSocket, reconnect: { minDelayMs: 10, maxDelayMs: 50 } })
  const wc = createQueryUtils(api, { prefix: 'wc' })
  return { ...test, server, api, wc, sockets, queryClient: testQueryClient() }
}
