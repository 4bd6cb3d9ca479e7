/**
 * tRPC v11 over WebSockets, set up as its docs recommend: `applyWSSHandler`
 * on a `ws` server, and `createTRPCClient` + `wsLink` + `createWSClient` with
 * the superjson transformer on the link. Nothing is tuned.
 */
import type { AddressInfo } from 'node:net'
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client'
import { applyWSSHandler } from '@trpc/server/adapters/ws'
import superjson from 'superjson'
import { WebSocketServer } from 'ws'
import type { BenchConnection, BenchServer, ConnectOptions, EchoInput, EchoTextInput, Impl, PublishInput, ServeOptions } from '../contract'
import { boundWebSocket } from './bound-websocket'
import { createTrpcRouter, type TrpcRouter } from './trpc-router'

async function serve(options: ServeOptions = {}): Promise<BenchServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: options.port ?? 0 })
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve)
    wss.once('error', reject)
  })
  applyWSSHandler({ wss, router: createTrpcRouter() })
  const { port } = wss.address() as AddressInfo

  return {
    port,
    close() {
      // `wss.close()` leaves open connections open and only calls back once
      // they are gone, so end them first; the adapter stops their
      // subscriptions when they close.
      for (const client of wss.clients) client.terminate()
      return new Promise<void>((resolve, reject) => {
        wss.close((error) => (error ? reject(error) : resolve()))
      })
    },
  }
}

async function connect(port: number, options: ConnectOptions = {}): Promise<BenchConnection> {
  let opened: () => void = () => {}
  let failed: (error: Error) => void = () => {}
  const open = new Promise<void>((resolve, reject) => {
    opened = resolve
    failed = reject
  })

  const wsClient = createWSClient({
    url: `ws://127.0.0.1:${port}`,
    // Node 20 has no global WebSocket. tRPC types this option as the DOM
    // class; the `ws` class implements the same API but is not the same type.
    WebSocket: boundWebSocket(options.localAddress) as unknown as typeof globalThis.WebSocket,
    // Off is the default; said explicitly because `connect` must open now.
    lazy: { enabled: false, closeMs: 0 },
    onOpen: () => opened(),
    // Only the first attempt matters here: once `open` has settled, later
    // calls do nothing.
    onError: () => failed(new Error(`tRPC: could not connect to port ${port}`)),
  })
  const client = createTRPCClient<TrpcRouter>({
    links: [wsLink<TrpcRouter>({ client: wsClient, transformer: superjson })],
  })

  try {
    await open
  } catch (error) {
    // The ws client retries on its own; stop it so nothing is left running.
    await wsClient.close()
    throw error
  }

  return {
    echo: (input: EchoInput) => client.echo.query(input),
    echoText: (input: EchoTextInput) => client.echoText.query(input),

    stream(count, onEvent) {
      return new Promise<void>((resolve, reject) => {
        client.stream.subscribe(
          { count },
          {
            onData: onEvent,
            onError: reject,
            // The server's generator returned: the link sends `stopped` and
            // completes the subscription.
            onComplete: () => resolve(),
          },
        )
      })
    },

    feed(onEvent) {
      return new Promise<{ stop(): void }>((resolve, reject) => {
        const subscription = client.feed.subscribe(undefined, {
          onData: onEvent,
          onError: reject,
          // `started` comes once the server runs the subscription, so events
          // published from now on reach it.
          onStarted: () => resolve({ stop: () => subscription.unsubscribe() }),
        })
      })
    },

    publish: (input: PublishInput) => client.publish.mutate(input),

    close: () => wsClient.close(),
  }
}

/** tRPC v11 with its WebSocket adapter and link. */
export const trpc: Impl = { name: 'trpc', serve, connect }
