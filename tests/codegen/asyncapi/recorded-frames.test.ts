import { createChannel, parseClientFrame, parseServerFrame } from '@wirecall/core'
import { buildAsyncApi, type JsonSchema } from '@wirecall/codegen'
import { afterEach, describe, expect, it } from 'vitest'
import { buildSchemaSet } from '../../../packages/codegen/src/schema/build-schema-set'
import { connectClient, rawPeer, readyPeer, rpcErrorOf, startServer, waitUntil } from '../../helpers/harness'
import { messageValidators } from './ajv'
import { shopRouter, type FeedEvent } from './fixtures/shop-router'
import { checkFrames, envelopeValidatorsOf } from './recording/check-frames'
import type { RecordedFrame } from './recording/frame-log'
import { FrameRecorder, listen } from './recording/frame-recorder'

/**
 * Frames recorded over a real socket on 127.0.0.1, in both directions, for
 * one realistic router whose document is generated here: each frame the
 * parser accepts validates against its message in the document, the
 * per-procedure one (its path, its input, output or event schema) where the
 * message belongs to a procedure. The integration suite's frames are checked
 * at the envelope level after every run (recording/frames-global-setup.ts);
 * the checker used there is tested here too.
 */

let stop: (() => void) | undefined
afterEach(() => {
  stop?.()
  stop = undefined
})

/** The message key of the document that describes each message of `frames`, following ids to the procedure that opened them. */
function classify(frames: readonly RecordedFrame[]): { key: string; message: Record<string, unknown>; sender: 'client' | 'server' }[] {
  const pathOf = new Map<number, string>()
  const reinits = new Set<number>()
  const out: { key: string; message: Record<string, unknown>; sender: 'client' | 'server' }[] = []
  for (const { sender, text } of frames) {
    const parsed = sender === 'client' ? parseClientFrame(text) : parseServerFrame(text)
    if (!parsed.ok) throw new Error(`the parser refused a frame of the reference implementations: ${text}`)
    for (const message of parsed.messages as unknown as Record<string, unknown>[]) {
      const type = message.type as string
      const id = message.id as number | undefined
      let key = type
      if (type === 'call' || type === 'subscribe') {
        pathOf.set(id!, message.path as string)
        key = `${type}.${message.path as string}`
      } else if (type === 'reinit') reinits.add(id!)
      else if (type === 'result' && reinits.has(id!)) key = 'reinitResult'
      else if (['result', 'started', 'data', 'resync', 'complete', 'unsubscribe'].includes(type)) key = `${type}.${pathOf.get(id!) ?? '?'}`
      out.push({ key, message, sender })
    }
  }
  return out
}

async function recordShopTraffic(): Promise<{ frames: RecordedFrame[]; document: JsonSchema }> {
  const feed = createChannel<FeedEvent>({ history: 2 })
  const router = shopRouter(feed)
  const document = buildAsyncApi(await buildSchemaSet(router), { url: 'ws://127.0.0.1:3000/rpc', title: 'shop' })
  const recorder = new FrameRecorder()
  stop = listen(recorder)

  const { url, server } = await startServer({ router, createContext: ({ connectionParams }) => {
      const user = (connectionParams as { user?: string } | undefined)?.user
      return user === undefined ? {} : { user }
    },
  })
  const api = connectClient<typeof router>(url, { connectionParams: { user: 'ada' } })
  expect(await api.greet.query({ name: 'Ada' })).toBe('hello Ada')
  const post = await api.post.add.mutate({ title: 'Hi', tags: new Set(['a', 'b']), publishAt: new Date(0) })
  expect(await api.post.get.query({ id: post.id })).toEqual(post)
  expect((await rpcErrorOf(api.post.get.query({ id: 99n }))).code).toBe('NOT_FOUND')
  expect((await rpcErrorOf(api.post.add.mutate({ title: '', tags: new Set() }))).code).toBe('BAD_REQUEST')
  expect(await api.orders.pay.mutate({ amount: 3 })).toEqual({ receipt: 'r-3' })
  const abort = new AbortController()
  const slow = api.slow.query({ ms: 5_000 }, { signal: abort.signal })
  await waitUntil(() => server.connectionCount === 1, 'the connection')
  setTimeout(() => abort.abort(), 20)
  expect((await rpcErrorOf(slow)).code).toBe('CANCELLED')

  // A feed resumed from an id the channel does not hold: started, resync, then live events; then unsubscribed.
  feed.publish({ text: 'old', at: new Date(1) })
  const events: FeedEvent[] = []
  let resyncs = 0
  const sub = api.feed.subscribe({ room: 'general' }, { lastEventId: 'gone.1', onData: (e) => events.push(e), onResync: () => resyncs++ })
  await waitUntil(() => resyncs === 1 && feed.subscriberCount === 1, 'started and resync')
  feed.publish({ text: 'one', at: new Date(2) })
  feed.publish({ text: 'two', at: new Date(3) })
  await waitUntil(() => events.length === 2, 'two live events')
  sub.unsubscribe()
  await waitUntil(() => feed.subscriberCount === 0, 'the unsubscribe')

  const counted: number[] = []
  for await (const { n } of api.countdown.subscribe({ from: 3 })) counted.push(n)
  expect(counted).toEqual([3, 2, 1, 0])

  await api.$connection.updateParams({ user: 'grace' })

  // A raw peer pings; then the server announces a restart to both connections and closes them.
  const peer = await readyPeer(url)
  peer.send({ type: 'ping' })
  await peer.next((m) => m.type === 'pong')
  const outsider = await rawPeer(url)
  outsider.send('[{"type":"init"},{"type":"ping"}]')
  await outsider.next((m) => m.type === 'pong')
  await api.$connection.close()
  await server.close({ graceMs: 50, reconnectWindowMs: 100 })
  await waitUntil(() => peer.messages.some((m) => m.type === 'restart'), 'the restart')
  stop()
  return { frames: recorder.take(), document }
}

describe('recorded frames against the AsyncAPI document', () => {
  it('every frame of a realistic session validates against its per-procedure message', async () => {
    const { frames, document } = await recordShopTraffic()
    const validators = messageValidators(document)
    const classified = classify(frames)
    const failures: string[] = []
    for (const { key, message } of classified) {
      const validate = validators.get(key)
      const payload = message.input ?? message.data ?? null
      if (validate === undefined) failures.push(`no message ${key} in the document: ${JSON.stringify(message)}`)
      else if (!validate(message)) failures.push(`${key} ${JSON.stringify(payload)}`)
    }
    const seen = new Set(classified.map((c) => c.key))
    console.log(`shop session: ${frames.length} frames, ${classified.length} messages checked against ${seen.size} messages of the document`)
    // The client sends what its caller gives it; the server validates. The one call made with a title the schema refuses is the one frame that breaks its message.
    expect(failures).toEqual(['call.post.add {"title":"","tags":[]}'])
    // The session reached every kind of message the document has for this router.
    for (const key of [
      'init', 'ack', 'error', 'cancel', 'reinit', 'reinitResult', 'restart', 'ping', 'pong',
      'call.greet', 'result.greet', 'call.post.add', 'result.post.add', 'call.post.get', 'result.post.get', 'call.orders.pay', 'result.orders.pay', 'call.slow',
      'subscribe.feed', 'started.feed', 'resync.feed', 'data.feed', 'unsubscribe.feed', 'subscribe.countdown', 'started.countdown', 'data.countdown', 'complete.countdown',
    ]) expect(seen, key).toContain(key)
    // A batch frame from each side, checked as a whole as well.
    const check = checkFrames(frames)
    expect(check).toMatchObject({ checked: frames.length, refused: 0, failures: [], offTableCodes: [] })
    expect(frames.some((f) => f.sender === 'server' && f.text.startsWith('['))).toBe(true)
    expect(frames.some((f) => f.sender === 'client' && f.text.startsWith('['))).toBe(true)
  })

  it('a corrupted frame fails: wrong field type, missing id, unknown type, an event that breaks its schema', async () => {
    const { frames, document } = await recordShopTraffic()
    const validators = messageValidators(document)
    const classified = classify(frames)
    const find = (key: string) => structuredClone(classified.find((c) => c.key === key)!.message)
    const data = find('data.feed')
    const call = find('call.post.add')
    const result = find('result.post.get')
    const corrupt: [key: string, message: Record<string, unknown>][] = [
      ['call.post.add', { ...call, id: String(call.id) }],
      ['call.post.add', { ...call, method: 'query' }],
      ['call.post.add', { ...call, input: { ...(call.input as object), tags: 'a,b' } }],
      ['result.post.get', Object.fromEntries(Object.entries(result).filter(([k]) => k !== 'id'))],
      ['result.post.get', { ...result, data: { ...(result.data as object), id: 7 } }],
      ['data.feed', { ...data, data: { text: 5, at: '1970-01-01T00:00:00.002Z' } }],
      ['data.feed', { ...data, data: { text: 'x', at: 'yesterday' } }],
      ['data.feed', { ...data, eventId: null }],
      ['error', { ...find('error'), code: 'TEAPOT' }],
    ]
    for (const [key, message] of corrupt) expect(validators.get(key)!(message), `${key} ${JSON.stringify(message)}`).toBe(false)

    // At the envelope level (what the integration suite's frames are checked against), the parser refuses what the envelopes refuse.
    const envelopes = envelopeValidatorsOf(document)
    const broken: ['client' | 'server', Record<string, unknown>][] = [
      ['client', { ...call, id: String(call.id) }],
      ['server', { ...data, type: 'datum' }],
      ['server', Object.fromEntries(Object.entries(data).filter(([k]) => k !== 'id'))],
    ]
    for (const [sender, message] of broken) {
      const type = message.type as string
      expect(envelopes.envelope(sender, type)?.(message) ?? false, JSON.stringify(message)).toBe(false)
      expect(checkFrames([{ sender, text: JSON.stringify(message) }], envelopes)).toMatchObject({ checked: 0, refused: 1 })
    }
  })

  it('the checker counts refused frames and off-table error codes apart, and fails a frame that breaks the document', () => {
    const envelopes = envelopeValidatorsOf()
    const result = checkFrames(
      [
        { sender: 'client', text: '{"type":"call","id":1,"method":"query","path":"a"}' },
        { sender: 'client', text: 'not json' },
        { sender: 'client', text: '{"type":"ack"}' },
        { sender: 'server', text: '[{"type":"result","id":1,"data":2},{"type":"pong"}]' },
        { sender: 'server', text: '{"type":"error","id":1,"code":"TEAPOT","message":"m"}' },
      ],
      envelopes,
    )
    expect(result).toMatchObject({ checked: 3, messages: 4, refused: 2, failures: [] })
    expect(result.offTableCodes).toHaveLength(1)

    // A document that drifted from the parser (here: `result.id` made a string) fails frames the parser accepts.
    const drifted = buildAsyncApi({ procedures: [], warnings: [] }) as any
    drifted.components.schemas['wirecall.envelope.server.result'].properties.id = { type: 'string' }
    const failed = checkFrames([{ sender: 'server', text: '{"type":"result","id":1}' }], envelopeValidatorsOf(drifted))
    expect(failed.failures).toHaveLength(1)
  })
})
