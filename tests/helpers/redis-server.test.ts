import { existsSync } from 'node:fs'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { sleep, within } from './async.js'
import { RespError } from './resp.js'
import { COMMAND_CLIENT_NAME, redisAvailable, startRedis, type RedisServer } from './redis-server.js'

/** Whether a process with this pid still exists (signal 0 only asks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('startRedis', () => {
  let previous: { pid: number; dir: string } | undefined

  it('starts Debian’s redis-server on 127.0.0.1 and a free port, answering PING', async () => {
    expect(redisAvailable()).toBe(true)
    const redis = await startRedis()
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`)
    expect(await redis.command('PING')).toBe('PONG')
    const info = await redis.command('INFO', 'server')
    expect(info).toMatch(/redis_version:7\./)
    expect(info).toMatch(new RegExp(`process_id:${redis.pid}\\r\\n`))
    expect(info).toMatch(new RegExp(`tcp_port:${redis.port}\\r\\n`))
    expect(existsSync(redis.dir)).toBe(true)
    expect(redis.log).toContain('Ready to accept connections')
    previous = { pid: redis.pid, dir: redis.dir }
  })

  it('killed the previous test’s server and removed its temp dir after that test', () => {
    expect(previous).toBeDefined()
    expect(alive(previous!.pid)).toBe(false)
    expect(existsSync(previous!.dir)).toBe(false)
  })

  let failed: { pid: number; dir: string } | undefined

  it.fails('a test that fails (on purpose) after starting a server', async () => {
    const redis = await startRedis()
    failed = { pid: redis.pid, dir: redis.dir }
    expect(await redis.command('PING')).toBe('not PONG')
  })

  it('killed the failed test’s server and removed its temp dir all the same', () => {
    expect(failed).toBeDefined()
    expect(alive(failed!.pid)).toBe(false)
    expect(existsSync(failed!.dir)).toBe(false)
  })

  it('command() parses every reply type and rejects on an error reply', async () => {
    const redis = await startRedis()
    expect(await redis.command('SET', 'key', 'välue')).toBe('OK')
    expect(await redis.command('GET', 'key')).toBe('välue')
    expect(await redis.command('GET', 'missing')).toBeNull()
    expect(await redis.command('XADD', 'stream', '1-1', 'data', 'a')).toBe('1-1')
    expect(await redis.command('XADD', 'stream', '2-1', 'data', 'b')).toBe('2-1')
    expect(await redis.command('XLEN', 'stream')).toBe(2)
    expect(await redis.command('XRANGE', 'stream', '-', '+')).toEqual([
      ['1-1', ['data', 'a']],
      ['2-1', ['data', 'b']],
    ])
    // DEBUG is disabled by default in Redis 7; the helper enables it for local connections.
    expect(await redis.command('DEBUG', 'SLEEP', '0')).toBe('OK')
    const error = await redis.command('INCR', 'key').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(RespError)
    expect((error as RespError).message).toMatch(/^ERR value is not an integer/)
  })

  it('clients() lists the connections but not command()’s own', async () => {
    const redis = await startRedis()
    expect(await redis.clients()).toEqual([])
    const list = await redis.command('CLIENT', 'LIST')
    expect(list).toContain(`name=${COMMAND_CLIENT_NAME}`)
  })

  it('a node-redis client connects to url, shows in clients(), and reconnects after CLIENT KILL', async () => {
    const redis = await startRedis()
    const client = createClient({ url: redis.url, socket: { reconnectStrategy: () => 20 } })
    client.on('error', () => {})
    onTestFinished(() => {
      if (client.isOpen) client.destroy()
    })
    await within(client.connect(), 'node-redis to connect')
    const [before] = await redis.clients()
    expect(before?.['addr']).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(await redis.clients()).toHaveLength(1)
    const reconnected = new Promise<void>((resolve) => client.once('reconnecting', () => client.once('ready', resolve)))
    // CLIENT KILL skips the caller (SKIPME yes), so only node-redis's connection goes.
    expect(await redis.command('CLIENT', 'KILL', 'TYPE', 'normal')).toBe(1)
    await within(reconnected, 'node-redis to reconnect after the kill')
    expect(await client.ping()).toBe('PONG')
    const [after] = await redis.clients()
    expect(after?.['id']).not.toBe(before?.['id'])
  })

  it('restart() with appendonly reloads every acknowledged write, after stop() and after kill()', async () => {
    const first = await startRedis({ appendonly: true })
    await first.command('SET', 'kept', '1')
    const second = await first.restart()
    expect(second.port).toBe(first.port)
    expect(second.dir).toBe(first.dir)
    expect(second.pid).not.toBe(first.pid)
    expect(alive(first.pid)).toBe(false)
    expect(await second.command('GET', 'kept')).toBe('1')
    // appendfsync always: a write acknowledged just before a SIGKILL is on disk.
    await second.command('SET', 'crash', '2')
    await second.kill()
    const third = await second.restart()
    expect(third.port).toBe(first.port)
    expect(await third.command('MGET', 'kept', 'crash')).toEqual(['1', '2'])
  })

  it('restart() without persistence comes back empty', async () => {
    const first = await startRedis()
    await first.command('SET', 'lost', '1')
    await first.stop()
    const second = await first.restart()
    expect(second.port).toBe(first.port)
    expect(await second.command('DBSIZE')).toBe(0)
    expect(await second.command('GET', 'lost')).toBeNull()
  })

  it('kill() ends the process at once: connections are refused until a restart', async () => {
    const redis = await startRedis()
    await redis.kill()
    expect(alive(redis.pid)).toBe(false)
    await expect(redis.command('PING')).rejects.toThrow(/ECONNREFUSED/)
    await redis.kill()
    await redis.stop()
    const again = await redis.restart()
    expect(await again.command('PING')).toBe('PONG')
  })

  it('replicaOf starts a replica that REPLICAOF NO ONE promotes', async () => {
    const primary = await startRedis()
    const replica = await startRedis({ replicaOf: { port: primary.port } })
    await primary.command('SET', 'copied', 'yes')
    // The replica syncs in the background; poll, for at most 5 s.
    let copied: unknown = null
    for (const deadline = Date.now() + 5_000; copied !== 'yes' && Date.now() < deadline; ) {
      copied = await replica.command('GET', 'copied')
      if (copied !== 'yes') await sleep(20)
    }
    expect(copied).toBe('yes')
    await expect(replica.command('SET', 'x', '1')).rejects.toThrow(/READONLY/)
    expect(await replica.command('REPLICAOF', 'NO', 'ONE')).toBe('OK')
    expect(await replica.command('SET', 'x', '1')).toBe('OK')
  })

  it('a port still in use fails the start with the server’s log', async () => {
    const redis = await startRedis()
    await expect(startRedis({ port: redis.port, timeoutMs: 500 })).rejects.toThrow(/Address already in use/)
  })
})

describe('startRedis in beforeAll', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    const { pid, dir } = redis
    await redis.close()
    expect(alive(pid)).toBe(false)
    expect(existsSync(dir)).toBe(false)
  })

  it('outlives the test that uses it, until close()', async () => {
    await redis.command('SET', 'a', '1')
  })

  it('is still there in the next test', async () => {
    expect(await redis.command('GET', 'a')).toBe('1')
  })
})
