import { describe, expect, it } from 'vitest'
import { createChannel, type ChannelPublishEvent } from '../src/channel'
import { isResync, resync, traceOf, type ResyncSignal, type TrackedEnvelope } from '../src/tracked'

const TRACE = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }

async function first<T>(iterable: AsyncIterable<T>): Promise<T> {
  const iterator = iterable[Symbol.asyncIterator]()
  const { value } = await iterator.next()
  await iterator.return?.()
  return value as T
}

describe('channel instrumentation', () => {
  it('calls every onPublish with the event, keeps the first trace context returned, and ignores a hook that throws', async () => {
    const seen: ChannelPublishEvent[] = []
    const channel = createChannel<string>({
      name: 'prices',
      history: 10,
      instrumentation: [
        {
          onPublish: () => {
            throw new Error('exporter down')
          },
        },
        { onPublish: (event) => void seen.push(event) },
        { onPublish: () => TRACE },
        { onPublish: () => ({ traceparent: 'not used: a trace context was already returned' }) },
        {},
      ],
    })
    const id = channel.publish('a')
    expect(seen).toEqual([{ channel: 'prices', topic: false, eventId: id, subscribers: 0 }])
    const envelope = (await first(channel.subscribe({ lastEventId: `${id.split('.')[0]}.0` }))) as TrackedEnvelope<string>
    expect(envelope).toMatchObject({ id, data: 'a' })
    expect(traceOf(envelope)).toEqual(TRACE)
  })

  it('keeps nothing when no hook returns a trace context, or there is no instrumentation', async () => {
    for (const channel of [createChannel<number>({ history: 1, instrumentation: [{ onPublish: () => undefined }] }), createChannel<number>({ history: 1 })]) {
      const id = channel.publish(1)
      const envelope = (await first(channel.subscribe({ lastEventId: `${id.split('.')[0]}.0` }))) as TrackedEnvelope<number>
      expect(traceOf(envelope)).toBeUndefined()
      expect(Object.getOwnPropertySymbols(envelope).map((s) => s.description)).toEqual(['wirecall.tracked'])
    }
  })
})

describe('resync reasons', () => {
  it('trimmed: the history no longer reaches back to lastEventId', async () => {
    const channel = createChannel<number>({ history: 2, epoch: 'e' })
    for (let n = 1; n <= 5; n++) channel.publish(n)
    const signal = (await first(channel.subscribe({ lastEventId: 'e.1' }))) as ResyncSignal
    expect(isResync(signal)).toBe(true)
    expect(signal.reason).toBe('trimmed')
  })

  it('unknown-id: another epoch, a non-canonical number, or an id not written yet', async () => {
    const channel = createChannel<number>({ history: 10, epoch: 'e' })
    channel.publish(1)
    for (const lastEventId of ['other.1', 'e.01', 'e.7', 'plain']) {
      const signal = (await first(channel.subscribe({ lastEventId }))) as ResyncSignal
      expect(signal.reason, lastEventId).toBe('unknown-id')
    }
  })

  it('lagging: a live subscriber that fell more than maxLag events behind', async () => {
    const channel = createChannel<number>({ maxLag: 2 })
    const iterator = channel.subscribe()[Symbol.asyncIterator]()
    for (let n = 1; n <= 5; n++) channel.publish(n)
    const { value } = await iterator.next()
    expect((value as ResyncSignal).reason).toBe('lagging')
    await iterator.return?.()
  })

  it('resync() without a reason is one shared plain signal; with a reason, a frozen signal carrying it', () => {
    expect(resync().reason).toBeUndefined()
    expect(resync()).toBe(resync())
    expect(resync('trimmed')).toEqual(resync('trimmed'))
    expect(resync('stream-reset').reason).toBe('stream-reset')
    expect(Object.isFrozen(resync('unknown-id'))).toBe(true)
    expect(isResync(resync('lagging'))).toBe(true)
  })
})
