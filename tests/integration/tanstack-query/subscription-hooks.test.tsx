// @vitest-environment happy-dom
import { act, fireEvent, screen } from '@testing-library/react'
import { useState } from 'react'
import { describe, expect, it } from 'vitest'
import { RpcError } from '@wirecall/client'
import { skipToken } from '@tanstack/react-query'
import type { SubscriptionStatus } from '@wirecall/tanstack-query'
import { useConnectionState, useSubscription, type SubscriptionResult } from '@wirecall/tanstack-query/react'
import { sleep, waitUntil } from '../../helpers/harness'
import { renderWith, startTestApp } from './react-harness'
import type { Tick } from './router'

/**
 * `useSubscription` and `useConnectionState` against a real server: the
 * status through a subscription's life and the connection's drops, a status
 * callback that fires on every change, StrictMode's double mount, and
 * `reset()`.
 */

/** Keeps the hook's latest result where the test can read it. */
function probe<T>() {
  const seen = { current: undefined as SubscriptionResult<T> | undefined, renders: [] as SubscriptionResult<T>[] }
  const record = (result: SubscriptionResult<T>) => {
    seen.current = result
    seen.renders.push(result)
    return null
  }
  return { seen, record }
}

const subscribeFrames = (sent: Record<string, unknown>[]) => sent.filter((frame) => frame.type === 'subscribe' || frame.type === 'unsubscribe')

describe('useSubscription', () => {
  it('StrictMode: a double mount opens exactly one subscription on the server; 0 within 1 s of unmount', async () => {
    const { wc, seen, server, sockets, queryClient, api } = await startTestApp()
    const { seen: hook, record } = probe<unknown>()
    await waitUntil(() => api.$connection.state === 'open', 'the connection')
    function Quiet() {
      return record(useSubscription(wc.quiet.subscriptionOptions()))
    }
    const view = renderWith(queryClient, <Quiet />, { strict: true })
    await waitUntil(() => hook.current?.status === 'live', 'live')
    await sleep(50)
    expect(seen.opened).toBe(1)
    expect(server.stats().subscriptions).toBe(1)
    expect(subscribeFrames(sockets.sent)).toEqual([{ type: 'subscribe', id: expect.any(Number), path: 'quiet' }])

    act(() => view.unmount())
    await waitUntil(() => server.stats().subscriptions === 0 && seen.open === 0, 'the server to end it', 1_000)
  })

  it('goes idle -> connecting -> live, back to connecting on a drop and live again; the status callback fires on each change', async () => {
    const { wc, feed, sockets, queryClient, api } = await startTestApp()
    const statuses: SubscriptionStatus[] = []
    const events: number[] = []
    const { seen: hook, record } = probe<Tick>()
    function Feed() {
      return record(
        useSubscription(wc.feed.subscriptionOptions(undefined, { onStatusChange: (status) => statuses.push(status), onData: (tick) => events.push(tick.n) })),
      )
    }
    const view = renderWith(queryClient, <Feed />)
    expect(hook.renders[0]!.status).toBe('connecting') // enabled: connecting from the first render
    await waitUntil(() => hook.current?.status === 'live', 'live')
    feed.publish({ n: 1 })
    await waitUntil(() => hook.current?.data?.n === 1, 'the first event')
    expect(hook.current?.lastEventId).toBe('feed.1')

    sockets.refuse(true)
    sockets.drop()
    await waitUntil(() => hook.current?.status === 'connecting', 'connecting after the drop')
    expect(hook.current?.data).toEqual({ n: 1 }) // kept
    feed.publish({ n: 2 }) // while away: replayed
    sockets.refuse(false)
    await waitUntil(() => hook.current?.status === 'live' && hook.current.data?.n === 2, 'live again, caught up')
    expect(api.$connection.state).toBe('open')
    expect(events).toEqual([1, 2])

    act(() => view.unmount())
    await waitUntil(() => statuses.at(-1) === 'idle', 'idle after the unmount')
    expect(statuses).toEqual(['connecting', 'live', 'connecting', 'live', 'idle'])
  })

  it('shows resyncing after events were missed, and live again with the next event', async () => {
    const { wc, feed, sockets, queryClient, api } = await startTestApp({ history: 2 })
    let resyncs = 0
    const statuses: SubscriptionStatus[] = []
    const { seen: hook, record } = probe<Tick>()
    function Feed() {
      return record(useSubscription(wc.feed.subscriptionOptions(undefined, { onResync: () => resyncs++, onStatusChange: (s) => statuses.push(s) })))
    }
    renderWith(queryClient, <Feed />)
    await waitUntil(() => hook.current?.status === 'live' && api.$connection.state === 'open', 'live')
    feed.publish({ n: 1 })
    await waitUntil(() => hook.current?.data?.n === 1, 'the first event')
    sockets.drop()
    for (let n = 2; n <= 6; n++) feed.publish({ n })
    await waitUntil(() => hook.current?.status === 'resyncing', 'resyncing')
    feed.publish({ n: 7 })
    await waitUntil(() => hook.current?.status === 'live' && hook.current.data?.n === 7, 'live with the next event')
    expect(resyncs).toBe(1)
    expect(statuses).toEqual(['connecting', 'live', 'connecting', 'live', 'resyncing', 'live'])
  })

  it('ends idle after the server completes it, with the last event kept', async () => {
    const { wc, queryClient, sockets, api } = await startTestApp()
    let completed = 0
    const { seen: hook, record } = probe<{ n: number }>()
    function Finite() {
      return record(useSubscription(wc.finite.subscriptionOptions({ count: 3 }, { onComplete: () => completed++ })))
    }
    renderWith(queryClient, <Finite />)
    await waitUntil(() => completed === 1, 'completion')
    expect(hook.current).toMatchObject({ status: 'idle', data: { n: 3 }, lastEventId: '3', error: undefined })
    // A later drop of the connection is not this subscription's business any more.
    sockets.refuse(true)
    sockets.drop()
    await waitUntil(() => api.$connection.state === 'reconnecting', 'the drop')
    await sleep(20)
    sockets.refuse(false)
    await waitUntil(() => api.$connection.state === 'open', 'the reconnect')
    expect(hook.renders.at(-1)!.status).toBe('idle')
    expect(hook.renders.filter((r) => r.status === 'connecting')).toHaveLength(hook.renders.findIndex((r) => r.status !== 'connecting'))
  })

  it('shows error with the RpcError; reset() subscribes again from scratch', async () => {
    const { wc, queryClient, sockets } = await startTestApp()
    const { seen: hook, record } = probe<never>()
    function Denied() {
      return record(useSubscription(wc.denied.subscriptionOptions()))
    }
    renderWith(queryClient, <Denied />)
    await waitUntil(() => hook.current?.status === 'error', 'the error')
    expect(hook.current?.error).toBeInstanceOf(RpcError)
    expect(hook.current?.error?.code).toBe('FORBIDDEN')
    act(() => hook.current!.reset())
    await waitUntil(() => subscribeFrames(sockets.sent).filter((f) => f.type === 'subscribe').length === 2, 'a second subscribe')
    await waitUntil(() => hook.current?.status === 'error' && hook.current.error !== undefined, 'the error again')
    expect(hook.renders.some((r, i) => i > 0 && r.status === 'connecting' && r.error === undefined)).toBe(true) // cleared in between
  })

  it('stays idle with no subscription while disabled (enabled: false or skipToken), and subscribes once enabled', async () => {
    const { wc, queryClient, sockets, server, api } = await startTestApp()
    function Toggle() {
      const [on, setOn] = useState(false)
      const quiet = useSubscription(wc.quiet.subscriptionOptions(undefined, { enabled: on }))
      const skipped = useSubscription(wc.finite.subscriptionOptions(skipToken))
      return (
        <button onClick={() => setOn(!on)}>
          {quiet.status} {skipped.status}
        </button>
      )
    }
    renderWith(queryClient, <Toggle />)
    await waitUntil(() => api.$connection.state === 'open', 'the connection')
    expect(screen.getByRole('button').textContent).toBe('idle idle')
    await sleep(30)
    expect(subscribeFrames(sockets.sent)).toEqual([])

    fireEvent.click(screen.getByRole('button'))
    await waitUntil(() => screen.getByRole('button').textContent === 'live idle', 'enabled: live')
    expect(server.stats().subscriptions).toBe(1)
    fireEvent.click(screen.getByRole('button'))
    await waitUntil(() => screen.getByRole('button').textContent === 'idle idle', 'disabled again: idle')
    await waitUntil(() => server.stats().subscriptions === 0, 'the server to end it')
    expect(subscribeFrames(sockets.sent).map((f) => f.type)).toEqual(['subscribe', 'unsubscribe'])
  })

  it('a new input ends the old subscription and starts one for the new input', async () => {
    const { wc, queryClient, sockets, server } = await startTestApp()
    const { seen: hook, record } = probe<{ n: number }>()
    function Counter() {
      const [count, setCount] = useState(1)
      record(useSubscription(wc.finite.subscriptionOptions({ count })))
      return <button onClick={() => setCount(count + 1)}>more</button>
    }
    renderWith(queryClient, <Counter />)
    await waitUntil(() => hook.current?.data?.n === 1 && hook.current.status === 'idle', 'the first run')
    fireEvent.click(screen.getByRole('button'))
    await waitUntil(() => hook.current?.data?.n === 2 && hook.current.status === 'idle', 'the second run')
    const subscribes = subscribeFrames(sockets.sent).filter((f) => f.type === 'subscribe')
    expect(subscribes).toHaveLength(2)
    expect(server.stats().subscriptions).toBe(0)
  })
})

describe('useConnectionState', () => {
  it('follows the client: open, reconnecting after a drop, open, closed', async () => {
    const { api, sockets, queryClient } = await startTestApp()
    const states: string[] = []
    function Badge() {
      const state = useConnectionState(api)
      states.push(state)
      return <span>{state}</span>
    }
    renderWith(queryClient, <Badge />)
    await waitUntil(() => states.at(-1) === 'open', 'open')
    sockets.refuse(true) // the client stays away until the test lets it back
    sockets.drop()
    await waitUntil(() => states.at(-1) === 'reconnecting', 'reconnecting')
    sockets.refuse(false)
    await waitUntil(() => states.at(-1) === 'open', 'open again')
    await act(() => api.$connection.close())
    await waitUntil(() => states.at(-1) === 'closed', 'closed')
    expect([...new Set(states)]).toEqual(['connecting', 'open', 'reconnecting', 'closed'])
    expect(screen.getByText('closed')).toBeTruthy()
  })
})
