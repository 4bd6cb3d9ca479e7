import { describe, expect, it } from 'vitest'
import type { ChannelPublishEvent } from '@wirecall/core'
import { createChannel, memoryChannelBackend } from '../src/index'

describe('a backed channel tells its instrumentation of each publish', () => {
  it('every hook, in order, even after one returned a trace context; a hook that throws is skipped', async () => {
    const seen: string[] = []
    const events: ChannelPublishEvent[] = []
    const trace = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }
    const channel = createChannel<number>({
      backend: memoryChannelBackend(),
      name: 'feed',
      instrumentation: [
        { onPublish: (event) => (seen.push('first'), events.push(event), trace) },
        {
          onPublish: () => {
            seen.push('throws')
            throw new Error('telemetry down')
          },
        },
        { onPublish: () => void seen.push('last') },
      ],
    })
    await channel.publish(1)
    expect(seen).toEqual(['first', 'throws', 'last'])
    // The backend gives the id once it stored the event: the hook, which runs before, gets ''.
    expect(events).toEqual([{ channel: 'feed', topic: false, eventId: '', subscribers: 0 }])
  })
})
