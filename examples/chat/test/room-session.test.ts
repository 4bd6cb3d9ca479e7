import { describe, expect, it } from 'vitest'
import type { RpcError } from '@wirecall/client'
import { sleep, waitUntil, within } from '../../../tests/helpers/harness'
import { Outbox } from '../src/outbox'
import { parseSessionEventId, type SessionChunk } from '../src/room-session'
import { chat, client, dataDir, message, portOf, session, typing } from './chat-helpers'

/**
 * `room.session`, the duplex subscription the page uses, from Node
 * clients: chunks in (join, typing, messages), the room's events out.
 */

describe('examples/chat: room.session', () => {
  it('parses session event ids: the room, then the store position', () => {
    expect(parseSessionEventId('general:42')).toEqual({ room: 'general', after: '42' })
    expect(parseSessionEventId('help:4jon18j1.1796688192752-0')).toEqual({ room: 'help', after: '4jon18j1.1796688192752-0' })
    for (const id of [undefined, '42', 'lobby:1', 'general:', ':1']) expect(parseSessionEventId(id)).toBeUndefined()
  })

  it('carries typing and messages both ways, in the order sent; a key posts once; other paths show up too', async () => {
    const app = await chat()
    const ada = session(client(app.rpcUrl, 'ada'), 'general')
    const bob = session(client(app.rpcUrl, 'bob'), 'general')
    await waitUntil(() => ada.log.starts === 1 && bob.log.starts === 1, 'both sessions to start')

    for (const chunk of [typing('key-0001'), message('hi bob', 'key-0001'), typing('key-0002'), message('  how are you?  ', 'key-0002')]) ada.outbox.push(chunk)
    await waitUntil(() => bob.messages().length === 2, 'bob to get both messages')
    expect(bob.trace()).toEqual(['t:ada:true', 'm1', 't:ada:true', 'm2'])
    expect(bob.messages().map((posted) => posted.text)).toEqual(['hi bob', 'how are you?'])
    expect(bob.log.events[1]).toMatchObject({ kind: 'message', key: 'key-0001', message: { id: 1, room: 'general', from: 'ada' } })
    expect(bob.messages()[0]!.at).toBeInstanceOf(Date)

    // The same chunks again (as re-sent after a reconnect): the typing one is stale and the message posts nothing;
    // the same key for another text is refused, to its sender alone.
    ada.outbox.push(typing('key-0001'))
    ada.outbox.push(message('hi bob', 'key-0001'))
    ada.outbox.push(message('something else', 'key-0001'))
    await waitUntil(() => ada.log.events.some((event) => event.kind === 'failed'), 'the refusal')
    expect(ada.log.events.at(-1)).toMatchObject({ kind: 'failed', key: 'key-0001', code: 'CONFLICT' })
    // A message from a client without a session, and typing from the old mutation, reach the sessions too, in order.
    const carol = client(app.rpcUrl, 'carol')
    await carol.typing.set.mutate({ room: 'general', typing: true })
    await carol.messages.send.mutate({ room: 'general', text: 'hello from carol' })
    await waitUntil(() => bob.messages().length === 3, 'carol\'s message')
    expect(bob.trace()).toEqual(['t:ada:true', 'm1', 't:ada:true', 'm2', 't:carol:true', 'm3'])
    expect(bob.log.events.at(-1)).not.toHaveProperty('key')
    expect(bob.sub.lastEventId).toBe('general:3')
    expect(ada.messages().map((posted) => posted.id)).toEqual([1, 2, 3])
    expect((await carol.messages.history.query({ room: 'general' })).lastId).toBe(3)
    for (const { log } of [ada, bob]) expect(log.errors).toEqual([])

    // A session that ends takes its user's indicator down.
    ada.outbox.push(typing('key-0004'))
    await waitUntil(() => bob.trace().at(-1) === 't:ada:true', 'ada typing')
    ada.sub.unsubscribe()
    await waitUntil(() => bob.trace().at(-1) === 't:ada:false', 'the indicator to go with her session')
  })

  it('refuses a session whose first chunk is not a join, and a second join to another room', async () => {
    const app = await chat()
    const api = client(app.rpcUrl, 'ada')
    const errors: RpcError[] = []
    const noJoin = new Outbox<SessionChunk>()
    noJoin.push(typing('key-0005'))
    api.room.session.subscribe(noJoin, { onError: (error) => errors.push(error) })
    const twoRooms = session(api, 'general')
    twoRooms.outbox.push({ kind: 'join', room: 'random' })
    const bad = session(api, 'help')
    bad.outbox.push(message('x'.repeat(501), 'key-0003')) // fails the chunk schema: the whole stream ends
    await waitUntil(() => errors.length === 1 && twoRooms.log.errors.length === 1 && bad.log.errors.length === 1, 'three refusals')
    expect(errors[0]!.code).toBe('BAD_REQUEST')
    expect(errors[0]!.message).toContain('joins a room')
    expect(twoRooms.log.errors[0]!.code).toBe('BAD_REQUEST')
    expect(twoRooms.log.errors[0]!.message).toContain('this session is in "general"')
    expect(bad.log.errors[0]!.code).toBe('BAD_REQUEST')
    expect((await api.messages.history.query({ room: 'help' })).lastId).toBe(0)
  })

  it('resumes after a restart from the last message it got, with the same producer: what was written meanwhile posts once, in order', async () => {
    const dir = dataDir()
    let app = await chat({ dataDir: dir })
    const port = portOf(app)
    const ada = session(client(app.rpcUrl, 'ada'), 'general')
    const bob = session(client(app.rpcUrl, 'bob'), 'general')
    await waitUntil(() => ada.log.starts === 1 && bob.log.starts === 1, 'both sessions to start')
    ada.outbox.push(message('one', 'key-1001'))
    ada.outbox.push(message('two', 'key-1002'))
    await waitUntil(() => bob.messages().length === 2, 'two messages')

    await within(app.close({ graceMs: 500, reconnectWindowMs: 200 }), 'the graceful close', 5_000)
    ada.outbox.push(message('three', 'key-1003')) // waits in the outbox: no server
    await sleep(100)
    app = await chat({ dataDir: dir, port })
    await waitUntil(() => bob.messages().length === 3 && ada.messages().length === 3, 'the message written while down', 5_000)
    ada.outbox.push(typing('key-1004'))
    ada.outbox.push(message('four', 'key-1004'))
    await waitUntil(() => bob.messages().length === 4, 'a message after the restart', 5_000)
    await sleep(100) // room for a duplicate to show up, if there were one

    for (const { messages, log } of [ada, bob]) {
      expect(messages().map((posted) => posted.id)).toEqual([1, 2, 3, 4])
      expect(messages().map((posted) => posted.text)).toEqual(['one', 'two', 'three', 'four'])
      expect(log.starts).toBe(2) // resumed, not reopened
      expect(log.resyncs).toBe(0)
      expect(log.errors).toEqual([])
    }
    expect(bob.trace().slice(-2)).toEqual(['t:ada:true', 'm4'])
    expect((await client(app.rpcUrl, 'carol').messages.history.query({ room: 'general' })).messages.map((posted) => posted.text)).toEqual(['one', 'two', 'three', 'four'])
  })
})
