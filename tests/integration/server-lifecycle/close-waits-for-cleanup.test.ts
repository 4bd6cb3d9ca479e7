import { describe, expect, it } from 'vitest'
import { initRpc, type RpcError } from '@wirecall/core'
import { connectClient, readyPeer, sleep, startServer, waitUntil, within } from '../../helpers/harness'

const rpc = initRpc.create()

/** A generator whose cleanup takes `ms` and records when it finished. */
function slowCleanup(ms: number, log: string[]) {
  return rpc.procedure.subscription(async function* ({ signal }) {
    try {
      for (let n = 0; !signal.aborted; n++) {
        yield n
        await sleep(5)
      }
    } finally {
      await sleep(ms)
      log.push('cleaned up')
    }
  })
}

describe('server.close() waits for resolvers and generators to unwind', () => {
  it('resolves after an async finally block has finished', async () => {
    const log: string[] = []
    const router = rpc.router({ feed: slowCleanup(100, log) })
    const { server, url } = await startServer({ router })
    const api = connectClient<typeof router>(url)
    let events = 0
    api.feed.subscribe(undefined, { onData: () => events++, onError: () => {} })
    await waitUntil(() => events > 0, 'an event')
    await within(server.close(), 'server.close()')
    expect(log).toEqual(['cleaned up'])
  })

  it('also waits for the generators of a client that had already disconnected', async () => {
    const log: string[] = []
    const router = rpc.router({ feed: slowCleanup(150, log) })
    const { server, url } = await startServer({ router })
    const peer = await readyPeer(url)
    peer.send({ type: 'subscribe', id: 1, path: 'feed' })
    await peer.next((m) => m.type === 'data')
    peer.ws.terminate()
    await waitUntil(() => server.connectionCount === 0, 'the server to see the disconnect')
    expect(log).toEqual([])
    await within(server.close(), 'server.close()')
    expect(log).toEqual(['cleaned up'])
  })

  it('gives up on a resolver that ignores its signal after closeTimeoutMs, instead of hanging', async () => {
    const router = rpc.router({
      stuck: rpc.procedure.mutation(() => new Promise<never>(() => {})),
    })
    const { server, url } = await startServer({ router })
    const api = connectClient<typeof router>(url)
    // A mutation: a query would be re-sent after the reconnect instead of rejecting.
    const call = api.stuck.mutate().catch((error: unknown) => error as RpcError)
    await sleep(20)
    await within(server.close(), 'server.close()', 3_000)
    expect((await call).code).toBe('CONNECTION_LOST')
  })

  it('reports an error thrown by a generator while it unwinds to onError', async () => {
    const reported: { code: string; message: string; path: string | undefined }[] = []
    const router = rpc.router({
      fragile: rpc.procedure.subscription(async function* () {
        try {
          for (;;) {
            yield 1
            await sleep(5)
          }
        } finally {
          // eslint-disable-next-line no-unsafe-finally
          throw new Error('cleanup failed')
        }
      }),
    })
    const { url } = await startServer({
      router,
      onError: ({ error, path }) => reported.push({ code: error.code, message: error.message, path }),
    })
    const api = connectClient<typeof router>(url)
    const sub = api.fragile.subscribe(undefined, { onData: () => sub.unsubscribe() })
    await waitUntil(() => reported.length === 1, 'the cleanup error to be reported')
    expect(reported[0]).toEqual({ code: 'INTERNAL', message: 'cleanup failed', path: 'fragile' })
  })
})
