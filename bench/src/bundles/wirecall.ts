import { createRpcClient } from '@wirecall/client'
import type { WirecallBundleRouter } from './wirecall-router'

/**
 * Bundle entry: the small app every library's entry does (a client to
 * ws://host/rpc, one query, one mutation, one subscription with onData and
 * onError, the connection state), written with `@wirecall/client` and its
 * defaults (superjson included: it is the default serializer).
 */

const api = createRpcClient<WirecallBundleRouter>({ url: `ws://${location.host}/rpc` })
const out = document.createElement('pre')
document.body.append(out)
const show = (value: unknown) => (out.textContent += `${String(value)}\n`)

api.$connection.on('state', (state) => (document.title = state))
void api.echo.query({ id: 1, name: 'user-1', active: false, score: 0.5, tags: ['a', 'b', 'c'] }).then((result) => show(result.name))
void api.publish.mutate({ count: 10, burst: 5 }).then((result) => show(result.published))
api.feed.subscribe(undefined, { onData: (event) => show(event.seq), onError: (error) => show(error.message) })
