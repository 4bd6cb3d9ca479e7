import { describe, expect, it } from 'vitest'
import { initRpc, isRpcError } from '@wirecall/core'
import { connectClient, startServer, waitUntil, within } from '../helpers/harness'

const rpc = initRpc.create()

describe('the iterator form holds at most 1,000 events for a loop that does not pull', () => {
  it('ends with OVERLOADED after the 1,000 it kept, and unsubscribes on the server', async () => {
    let live = 0
    let aborted = false
    const router = rpc.router({
      flood: rpc.procedure.subscription(async function* ({ signal }) {
        live++
        try {
          for (let n = 1; n <= 5_000 && !signal.aborted; n++) yield n
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
        } finally {
          aborted = signal.aborted
          live--
        }
      }),
    })
    const { url } = await startServer({ router })
    const api = connectClient<typeof router>(url)
    const events = api.flood.subscribe()
    const iterator = events[Symbol.asyncIterator]()
    await waitUntil(() => events.state === 'ended', 'the subscription to end on overflow')
    await waitUntil(() => live === 0, 'the generator to unwind')
    expect(aborted).toBe(true)

    const got: number[] = []
    const failure = await within(
      (async () => {
        for (let i = 0; i < 2_000; i++) {
          const result = await iterator.next()
          if (result.done === true) return undefined
          got.push(result.value as number)
        }
        return undefined
      })().then(
        () => undefined,
        (error: unknown) => error,
      ),
      'the loop to drain',
    )
    expect(got).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1))
    expect(isRpcError(failure) && failure.code).toBe('OVERLOADED')
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
  })
})
