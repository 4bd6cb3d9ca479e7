// @vitest-environment happy-dom
import { useMutation, useQuery } from '@tanstack/react-query'
import { act, fireEvent, screen } from '@testing-library/react'
import { useState } from 'react'
import { describe, expect, it } from 'vitest'
import { RpcError } from '@wirecall/client'
import { createQueryUtils } from '@wirecall/tanstack-query'
import { connectClient, gate, startServer, waitUntil } from '../../helpers/harness'
import { renderWith, testQueryClient, trackedSockets } from './react-harness'
import { createTestRouter, type TestRouter } from './router'

/**
 * Queries and mutations through `@wirecall/tanstack-query` in React, against
 * a real server on 127.0.0.1: cancellation that reaches the server, cache
 * entries for rich inputs, errors, and idempotency keys across a real drop.
 */

async function setup(options: { WebSocket?: ReturnType<typeof trackedSockets>['WebSocket'] } = {}) {
  const test = createTestRouter()
  const { url, server } = await startServer({ router: test.router })
  const api = connectClient<TestRouter>(url, { reconnect: { minDelayMs: 10, maxDelayMs: 50 }, ...options })
  const wc = createQueryUtils(api, { prefix: 'wc' })
  return { ...test, server, api, wc, queryClient: testQueryClient() }
}

describe('queryOptions in React', () => {
  it('unmounting before the result sends a cancel, and the resolver sees its signal aborted', async () => {
    const sockets = trackedSockets()
    const { wc, seen, queryClient } = await setup({ WebSocket: sockets.WebSocket })
    function Slow() {
      const query = useQuery(wc.slow.queryOptions({ id: 'a' }))
      return <p>{query.status}</p>
    }
    const view = renderWith(queryClient, <Slow />)
    await waitUntil(() => seen.slowStarted.includes('a'), 'the resolver to start')
    expect(screen.getByText('pending')).toBeTruthy()

    act(() => view.unmount())
    await waitUntil(() => seen.slowAborted.includes('a'), "the resolver's signal to abort")
    const call = sockets.sent.find((frame) => frame.type === 'call' && frame.path === 'slow')!
    expect(sockets.sent).toContainEqual({ type: 'cancel', id: call.id })
    // Cancelled, so reverted to where it started: nothing cached, no error.
    expect(queryClient.getQueryState(wc.slow.queryKey({ id: 'a' }))).toMatchObject({ status: 'pending', fetchStatus: 'idle', error: null })
  })

  it('BigInt, Map and Set inputs get distinct cache entries, each answered by its own call', async () => {
    const { wc, seen, queryClient } = await setup()
    const inputs = [1n, 2n, new Map([['a', 1]]), new Map([['a', 2]]), new Set([1]), new Set([2])]
    function Describe({ input }: { input: bigint | Map<string, number> | Set<number> }) {
      const query = useQuery(wc.describe.queryOptions(input))
      return <li>{query.data ? `${query.data.kind} #${query.data.calls}` : '…'}</li>
    }
    renderWith(
      queryClient,
      <ul>
        {inputs.map((input, i) => (
          <Describe key={i} input={input} />
        ))}
        {/* The same inputs again, built anew: they share the entries above. */}
        <Describe input={1n} />
        <Describe input={new Set([2])} />
      </ul>,
    )
    await waitUntil(() => screen.queryAllByText(/#/).length === inputs.length + 2, 'every query to answer')
    expect(seen.described).toEqual(inputs) // one call per distinct input, the server got each as it was
    expect(queryClient.getQueryCache().findAll({ queryKey: wc.describe.key() })).toHaveLength(inputs.length)
    const kinds = screen.getAllByRole('listitem').map((li) => li.textContent!.split(' #')[0])
    expect(kinds).toEqual(['bigint', 'bigint', 'Map', 'Map', 'Set', 'Set', 'bigint', 'Set'])
  })

  it('a failed call is the RpcError, with its code', async () => {
    const { wc, queryClient } = await setup()
    function Add() {
      const mutation = useMutation(wc.post.fail.mutationOptions())
      return (
        <button onClick={() => mutation.mutate({ title: 'x' })}>{mutation.error ? `${mutation.error.code}: ${mutation.error.message}` : 'add'}</button>
      )
    }
    renderWith(queryClient, <Add />)
    fireEvent.click(screen.getByText('add'))
    await waitUntil(() => screen.queryByText('CONFLICT: taken') !== null, 'the error to show')
    expect(queryClient.getMutationCache().getAll()[0]!.state.error).toBeInstanceOf(RpcError)
  })
})

describe('mutationOptions in React', () => {
  it('an idempotent mutation in flight across a dropped connection runs once, and resolves', async () => {
    const sockets = trackedSockets()
    const { wc, seen, queryClient, server, control } = await setup({ WebSocket: sockets.WebSocket })
    let results: string[] = []
    function Add() {
      const [n, setN] = useState(0)
      const mutation = useMutation(wc.post.add.mutationOptions({ idempotent: true, onSuccess: (post) => (results = [...results, post.title]) }))
      return (
        <button
          onClick={() => {
            setN(n + 1)
            mutation.mutate({ title: `post ${n + 1}` })
          }}
        >
          {mutation.status}
        </button>
      )
    }
    renderWith(queryClient, <Add />)
    await waitUntil(() => sockets.sockets.length === 1 && server.stats().connections === 1, 'the connection')
    // The mutation runs on the server, and the socket drops before its answer can come back.
    const held = gate()
    control.hold = held.opened
    fireEvent.click(screen.getByRole('button'))
    await waitUntil(() => seen.added.length === 1, 'the mutation to run')
    sockets.drop()
    held.open()
    await waitUntil(() => results.length === 1, 'the mutation to resolve after the reconnect')
    expect(sockets.sockets).toHaveLength(2)
    control.hold = undefined
    fireEvent.click(screen.getByRole('button'))
    await waitUntil(() => results.length === 2, 'the second mutation')

    const keys = sockets.sent.filter((frame) => frame.type === 'call' && frame.path === 'post.add').map((frame) => frame.idempotencyKey as string)
    expect(keys).toHaveLength(3) // the first call went out twice: before and after the drop
    expect(keys[1]).toBe(keys[0]) // with its key: the server answered the second from the first run
    expect(keys[2]).not.toBe(keys[0]) // and the next mutate() has a key of its own
    expect(seen.added).toEqual(['post 1', 'post 2']) // each ran once
    expect(results).toEqual(['post 1', 'post 2'])
  })
})
