import { connect as connectSocket } from 'node:net'
import { createClient } from 'redis'
import { onTestFinished } from 'vitest'
import type { RedisConnection } from '@wirecall/redis'
import { startRedis, type RedisServer, type RedisServerOptions } from '../../../tests/helpers/redis-server'

/**
 * What the unit tests of `@wirecall/redis` run against: Debian's
 * redis-server, started for the test on 127.0.0.1 (tests/helpers/redis-server.ts,
 * killed by PID after it), and real node-redis v5 clients, each named so
 * that `CLIENT LIST` tells whose connection is whose.
 */

export { startRedis, type RedisServer, type RedisServerOptions }

/** A node-redis client as the package is meant to be given one. */
export type TestClient = ReturnType<typeof createClient> & RedisConnection

/**
 * A connected node-redis client of `server`, named `name` in `CLIENT LIST`
 * (its `duplicate()`s too), reconnecting after tens of milliseconds so that
 * a blip costs the test little (or after `reconnectDelayMs`). Destroyed after the test unless the test did.
 */
export async function connect(server: RedisServer, name: string, reconnectDelayMs: (retries: number) => number = (retries) => Math.min(20 * 2 ** retries, 200)): Promise<TestClient> {
  const client = createClient({ url: server.url, name, socket: { reconnectStrategy: reconnectDelayMs } })
  // A client outlives a blip: it reconnects by itself; the errors it reports meanwhile are expected here.
  client.on('error', () => {})
  await client.connect()
  onTestFinished(() => {
    if (client.isOpen) client.destroy()
  })
  return client
}

/** The connections `CLIENT LIST` shows named `name` (the helper's own is left out). */
export async function connectionsNamed(server: RedisServer, name: string): Promise<Readonly<Record<string, string>>[]> {
  return (await server.clients()).filter((info) => info['name'] === name)
}

/** What a `MONITOR` connection saw: every command Redis ran, one line each, as Redis prints them. */
export interface Monitor {
  readonly lines: readonly string[]
  /** Lines of commands named `command` (`XREAD`), seen from index `from` on. */
  commands(command: string, from?: number): string[]
}

/**
 * Opens a raw `MONITOR` connection to `server` (no client library: what it
 * shows is what Redis ran). Closed after the test.
 */
export async function monitor(server: RedisServer): Promise<Monitor> {
  const socket = connectSocket({ host: '127.0.0.1', port: server.port })
  onTestFinished(() => {
    socket.destroy()
  })
  const lines: string[] = []
  let pending = ''
  socket.setEncoding('utf8')
  socket.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.once('connect', () => {
      socket.off('error', reject)
      resolve()
    })
  })
  const ok = new Promise<void>((resolve) => {
    socket.on('data', (chunk: string) => {
      pending += chunk
      const parts = pending.split('\r\n')
      pending = parts.pop() ?? ''
      for (const part of parts) {
        if (part === '+OK') resolve()
        else lines.push(part)
      }
    })
  })
  socket.write('*1\r\n$7\r\nMONITOR\r\n')
  await ok
  return {
    lines,
    commands: (command, from = 0) => lines.slice(from).filter((line) => line.includes(`] "${command.toLowerCase()}"`) || line.includes(`] "${command.toUpperCase()}"`)),
  }
}
