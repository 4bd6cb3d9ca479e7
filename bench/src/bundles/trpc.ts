import { createTRPCClient, createWSClient, wsLink } from '@trpc/client'
import superjson from 'superjson'
import type { TrpcBundleRouter } from './trpc-router'

/**
 * Bundle entry: the small app every library's entry does (a client to
 * ws://host/rpc, one query, one mutation, one subscription with onData and
 * onError, the connection state), written with tRPC v11 as its docs
 * recommend for subscriptions: createWSClient + wsLink, superjson
 * transformer.
 */

const wsClient = createWSClient({ url: `ws://${location.host}/rpc` })
const api = createTRPCClient<TrpcBundleRouter>({ links: [wsLink({ client: wsClient, transformer: superjson })] })
const out = document.createElement('pre')
document.body.append(out)
const show = (value: unknown) => (out.textContent += `${String(value)}\n`)

wsClient.connectionState.subscribe({ next: (state) => (document.title = state.state) })
void api.echo.query({ id: 1, name: 'user-1', active: false, score: 0.5, tags: ['a', 'b', 'c'] }).then((result) => show(result.name))
void api.publish.mutate({ count: 10, burst: 5 }).then((result) => show(result.published))
api.feed.subscribe(undefined, { onData: (event) => show(event.seq), onError: (error) => show(error.message) })
