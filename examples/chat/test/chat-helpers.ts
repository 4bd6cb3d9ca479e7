import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import WebSocket from 'ws'
import { createRpcClient, type RpcClient, type RpcError } from '@wirecall/client'
import { sleep } from '../../../tests/helpers/harness'
import { Outbox } from '../src/outbox'
import type { SessionChunk, SessionEvent } from '../src/room-session'
import type { RoomName } from '../src/rooms'
import type { AppRouter } from '../src/router'
import { startChat, type Chat, type ChatOptions } from '../src/server'

/** The chat tests' loopback interface. */
export const host = '127.0.0.1'
/** A short typing TTL, so that the tests see indicators expire. */
export const TYPING_TTL_MS = 300

/** A fresh data directory, removed after the test. */
export function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wirecall-chat-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Starts a chat, closed after the test; on a given port, retries briefly while the previous server lets go of it. */
export async function chat(options: Partial<ChatOptions> = {}): Promise<Chat> {
  const deadline = Date.now() + 2_000
  for (;;) {
    try {
      const app = await startChat({ port: 0, host, typingTtlMs: TYPING_TTL_MS, ...options })
      onTestFinished(() => app.close())
      return app
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() > deadline) throw error
      await sleep(20)
    }
  }
}

export const portOf = (app: Chat) => Number(new URL(app.url).port)

/** A Node client signed in as `name`, closed after the test; it reconnects quickly. */
export function client(url: string, name: unknown) {
  const api = createRpcClient<AppRouter>({ url, WebSocket, connectionParams: { name }, reconnect: { minDelayMs: 20, maxDelayMs: 200 } })
  onTestFinished(() => api.$connection.close())
  return api
}
export type Api = RpcClient<AppRouter>

/** Opens a session in `room` as the page does (after its message 0, or from `lastEventId`), and records what it brings. */
export function session(api: Api, room: RoomName, lastEventId = `${room}:0`) {
  const outbox = new Outbox<SessionChunk>()
  outbox.push({ kind: 'join', room })
  const log = { events: [] as SessionEvent[], starts: 0, resyncs: 0, errors: [] as RpcError[] }
  const sub = api.room.session.subscribe(outbox, {
    lastEventId,
    idempotent: true,
    onStarted: () => log.starts++,
    onData: (event) => log.events.push(event),
    onResync: () => log.resyncs++,
    onError: (error) => log.errors.push(error),
  })
  onTestFinished(() => sub.unsubscribe())
  const messages = () => log.events.flatMap((event) => (event.kind === 'message' ? [event.message] : []))
  /** The events as short strings: `m<id>`, `t:<user>:<typing>`, `failed:<key>:<code>`. */
  const trace = () =>
    log.events.map((event) => (event.kind === 'message' ? `m${event.message.id}` : event.kind === 'typing' ? `t:${event.user}:${event.typing}` : `failed:${event.key}:${event.code}`))
  return { outbox, sub, log, messages, trace }
}

/** A message chunk, as the page sends it. */
export const message = (text: string, key: string): SessionChunk => ({ kind: 'message', text, key })
/** A typing chunk: "I am writing the message that will have `key`". */
export const typing = (key: string): SessionChunk => ({ kind: 'typing', typing: true, key })
