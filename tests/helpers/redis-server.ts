import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import { sleep } from './async.js'
import { freePort } from './child-server.js'
import { exchange, RespError } from './resp.js'

/**
 * A real redis-server (Debian's, /usr/bin/redis-server, installed by
 * scripts/ensure-redis.sh) per test, as a child process on 127.0.0.1 and a
 * free port, with its own temp dir. The test can stop it (SIGTERM), kill it
 * (SIGKILL), bring it back on the same port over the same data, and send it
 * raw commands; it never goes through a Redis client library, so a bug in
 * the code under test cannot hide in the fixture.
 *
 * Cleanup: started inside a test (or a `beforeEach`), every process of the
 * server, restarts included, is killed after the test and its temp dir is
 * removed, whether the test passed or not. Started in a `beforeAll`, it is
 * the caller's to `close()` in `afterAll`. Either way, a process-exit hook
 * kills whatever is still running when the test worker exits.
 */

/** Where Debian's package puts the server; the tests use this one and no other on PATH. */
export const REDIS_SERVER = '/usr/bin/redis-server'

/**
 * The name `command()` gives its own short-lived connection (`CLIENT
 * SETNAME`), so that a count of the connections in `CLIENT LIST` can leave
 * it out; `clients()` does.
 */
export const COMMAND_CLIENT_NAME = 'wirecall-test-command'

/** How to start one redis-server. */
export interface RedisServerOptions {
  /**
   * Persist every write before acknowledging it (`--appendonly yes
   * --appendfsync always`), so `restart()` after `stop()` or `kill()`
   * reloads everything the server acknowledged.
   * @default false (nothing is persisted: a restart comes back empty)
   */
  appendonly?: boolean
  /** Start as a replica of the redis-server on 127.0.0.1:`port` (`--replicaof`); `null` in `restart()` drops an inherited one. */
  replicaOf?: { port: number } | null
  /**
   * Listen on this port rather than a free one: to come back where the
   * clients reconnect. While the port is still taken, the start retries
   * until `timeoutMs`.
   */
  port?: number
  /** Keep the data (AOF, RDB) here rather than in a fresh temp dir; a dir passed in is never removed. */
  dir?: string
  /** More configuration, as redis-server command-line arguments (`['--maxmemory', '10mb']`), after the defaults so that they win. */
  args?: readonly string[]
  /**
   * How long the start may take, until it answers `PING` (an AOF being
   * loaded answers `-LOADING` meanwhile).
   * @default 10_000
   */
  timeoutMs?: number
}

/** What `restart()` may change; the port and the dir stay. */
export type RedisRestartOptions = Pick<RedisServerOptions, 'appendonly' | 'replicaOf' | 'args' | 'timeoutMs'>

/** One entry of `CLIENT LIST`: its `key=value` fields as strings (`id`, `addr`, `name`, `cmd`, …). */
export type RedisClientInfo = Readonly<Record<string, string>>

/** A running redis-server started by {@link startRedis}. */
export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /** Its data dir (`--dir`): the same across `restart()`. */
  readonly dir: string
  readonly pid: number
  /** Its log so far (`--logfile ''` sends it to stdout), the last 64 KiB: for failure messages. */
  readonly log: string
  /** SIGTERM (a clean shutdown: an AOF is flushed), then waits until the process has exited; SIGKILL after 10 s, and rejects then. Idempotent. */
  stop(): Promise<void>
  /** SIGKILL (a crash: nothing more is written), then waits until the process has exited. Idempotent. */
  kill(): Promise<void>
  /**
   * Starts a new redis-server on the same port over the same dir, with the
   * options of this one changed by `options`, after stopping this one
   * (SIGTERM) if it still runs. With `appendonly` it reloads the AOF; without
   * it comes back empty. This object stays stopped; use the one returned.
   */
  restart(options?: RedisRestartOptions): Promise<RedisServer>
  /**
   * Sends one raw command over a new, short-lived connection (named
   * {@link COMMAND_CLIENT_NAME}) and resolves with its RESP-parsed reply:
   * strings, numbers, `null` and arrays of those. An error reply rejects with
   * a `RespError`. Bounded by 10 s, so `DEBUG SLEEP` of a few seconds fits
   * (the debug command is enabled for local connections).
   */
  command(...args: string[]): Promise<unknown>
  /** `CLIENT LIST`, parsed, without `command()`'s own connection. */
  clients(): Promise<RedisClientInfo[]>
  /** Kills every process this server and its restarts started, and removes the temp dir it made. For `afterAll`; after a test it runs by itself. Idempotent. */
  close(): Promise<void>
}

/** Whether Debian's redis-server is installed here and runs (`--version`); cached. */
export function redisAvailable(): boolean {
  available ??= spawnSync(REDIS_SERVER, ['--version'], { stdio: 'ignore', timeout: 5_000 }).status === 0
  return available
}
let available: boolean | undefined

/**
 * Starts a redis-server on 127.0.0.1 and resolves once it answers `PING`.
 * Rejects, with its log, when it exits first or does not answer within
 * `timeoutMs`; a free port taken by someone else in the meantime is retried
 * on another.
 */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (!redisAvailable()) throw new Error(`${REDIS_SERVER} is missing or does not run: run 'bash scripts/ensure-redis.sh'`)
  const owned = options.dir === undefined
  const group: Group = { dir: options.dir ?? mkdtempSync(join(tmpdir(), 'wirecall-redis-')), owned, children: new Set(), closing: undefined }
  groups.add(group)
  whenTestFinishes(() => closeGroup(group))
  try {
    return await launch(group, options)
  } catch (error) {
    await closeGroup(group)
    throw error
  }
}

/** The processes started over one data dir (a server and its restarts), cleaned up together. */
interface Group {
  dir: string
  /** Whether the dir is a temp dir made here, removed on close. */
  owned: boolean
  children: Set<ChildProcess>
  closing: Promise<void> | undefined
}

/**
 * Every live group in this process, kept on `globalThis` so that a module
 * evaluated again (a worker reused across test files) shares one registry
 * and one set of process hooks.
 */
const REGISTRY = Symbol.for('wirecall.tests.redis-server.groups')
const registry = globalThis as { [REGISTRY]?: Set<Group> }
const groups: Set<Group> = registry[REGISTRY] ?? createRegistry()
const LOG_LIMIT = 64 * 1024
const EXIT_WAIT_MS = 10_000
const COMMAND_TIMEOUT_MS = 10_000
/** Cap on port races on one start: each costs one failed bind. */
const MAX_PORT_ATTEMPTS = 10

/** Registers `cleanup` after the current test; outside a test (`beforeAll`) there is none, and `close()` is the caller's. */
function whenTestFinishes(cleanup: () => Promise<void>): void {
  try {
    onTestFinished(cleanup)
  } catch {
    // Not inside a test: the caller closes, and the exit hook below is the backstop.
  }
}

/**
 * Makes the registry and hooks the process so that no redis-server outlives
 * the test worker, even when nothing closed it (a `beforeAll` without its
 * `afterAll`, a test cut short): on exit, and on the SIGTERM vitest ends its
 * forked workers with, which skips 'exit'. The SIGTERM hook cleans up, then
 * sends the signal again with itself removed, so the worker still dies of it.
 */
function createRegistry(): Set<Group> {
  const created = new Set<Group>()
  registry[REGISTRY] = created
  const killAll = () => {
    for (const group of created) {
      for (const child of group.children) if (isRunning(child)) child.kill('SIGKILL')
      if (group.owned) rmSync(group.dir, { recursive: true, force: true })
    }
    created.clear()
  }
  process.once('exit', killAll)
  process.once('SIGTERM', () => {
    killAll()
    if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM')
  })
  return created
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null
}

/** Sends `signal` and resolves once the process has exited (at once if it had). */
function signalAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (!isRunning(child)) return Promise.resolve()
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill(signal)
  return exited
}

function closeGroup(group: Group): Promise<void> {
  group.closing ??= (async () => {
    await Promise.all([...group.children].map((child) => signalAndWait(child, 'SIGKILL')))
    if (group.owned) rmSync(group.dir, { recursive: true, force: true, maxRetries: 3 })
    groups.delete(group)
  })()
  return group.closing
}

/** The command line: loopback only, no persistence unless asked, logs on stdout, DEBUG allowed from 127.0.0.1, replicas synced at once. */
function argumentsFor(port: number, dir: string, options: RedisServerOptions): string[] {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'no', '--daemonize', 'no', '--dir', dir, '--logfile', '', '--save', '']
  args.push('--enable-debug-command', 'local')
  // A primary waits 5 s by default before a full sync, for more replicas to join; a test has one.
  args.push('--repl-diskless-sync-delay', '0')
  if (options.appendonly) args.push('--appendonly', 'yes', '--appendfsync', 'always')
  else args.push('--appendonly', 'no')
  if (options.replicaOf) args.push('--replicaof', '127.0.0.1', String(options.replicaOf.port))
  args.push(...(options.args ?? []))
  return args
}

/** Starts one process of `group` (retrying port races) and waits until it answers PING. */
async function launch(group: Group, options: RedisServerOptions): Promise<RedisServer> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const deadline = Date.now() + timeoutMs
  // The log of the last start that found the port taken, for the error if the deadline comes next.
  let portTakenLog = ''
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort())
    const child = spawn(REDIS_SERVER, argumentsFor(port, group.dir, options), { stdio: ['ignore', 'pipe', 'pipe'] })
    group.children.add(child)
    let log = ''
    // Always read: a redis-server whose stdout pipe fills up blocks on its next log line.
    const append = (chunk: Buffer) => {
      log = (log + String(chunk)).slice(-LOG_LIMIT)
    }
    child.stdout.on('data', append)
    child.stderr.on('data', append)
    let spawnError: Error | undefined
    child.once('error', (error) => {
      spawnError = error
    })
    const outcome = await untilReady(() => spawnError === undefined && isRunning(child), child.pid, port, deadline)
    if (outcome === 'ready') {
      return serverFor(group, child, port, options, () => log)
    }
    if (spawnError === undefined) await signalAndWait(child, 'SIGKILL')
    group.children.delete(child)
    if (spawnError) throw new Error(`could not start ${REDIS_SERVER}: ${spawnError.message}`)
    const portTaken = log.includes('Address already in use')
    if (outcome === 'exited' && portTaken && Date.now() < deadline && attempt < MAX_PORT_ATTEMPTS) {
      // Another process took the free port first (a fixed port: the last holder has not let go yet).
      portTakenLog = log
      if (options.port !== undefined) await sleep(100)
      continue
    }
    const what = outcome === 'exited' ? `exited (${child.exitCode ?? child.signalCode}) before it answered PING` : `did not answer PING within ${timeoutMs} ms`
    throw new Error(`redis-server on 127.0.0.1:${port} ${what}:\n${portTaken || portTakenLog === '' ? log : `(the port was still in use)\n${portTakenLog}`}`)
  }
}

/**
 * Polls PING until PONG (`-LOADING` and ECONNREFUSED mean not yet), the
 * process exits, or the deadline passes. The PONG must come from process
 * `pid` (`INFO server`): on a port still held, another server answers while
 * this one is failing to bind.
 */
async function untilReady(running: () => boolean, pid: number | undefined, port: number, deadline: number): Promise<'ready' | 'exited' | 'timeout'> {
  while (Date.now() < deadline) {
    if (!running()) return 'exited'
    try {
      const [pong, info] = await exchange(port, [['PING'], ['INFO', 'server']], Math.max(1, Math.min(1_000, deadline - Date.now())))
      if (pong === 'PONG' && typeof info === 'string' && info.includes(`\r\nprocess_id:${pid}\r\n`)) return 'ready'
    } catch {
      // Not listening yet, or the process is dying: look again.
    }
    await sleep(20)
  }
  return running() ? 'timeout' : 'exited'
}

/** Splits `CLIENT LIST` (one client a line, `key=value` fields) into records. */
function parseClientList(text: string): RedisClientInfo[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => Object.fromEntries(line.trim().split(' ').map((field) => splitField(field))))
}

function splitField(field: string): [string, string] {
  const at = field.indexOf('=')
  return at === -1 ? [field, ''] : [field.slice(0, at), field.slice(at + 1)]
}

function serverFor(group: Group, child: ChildProcess, port: number, options: RedisServerOptions, log: () => string): RedisServer {
  const command = async (...args: string[]): Promise<unknown> => {
    const [, reply] = await exchange(port, [['CLIENT', 'SETNAME', COMMAND_CLIENT_NAME], args], COMMAND_TIMEOUT_MS)
    if (reply instanceof RespError) throw reply
    return reply
  }
  const stop = async (): Promise<void> => {
    if (!isRunning(child)) return
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), EXIT_WAIT_MS)
    })
    const outcome = await Promise.race([signalAndWait(child, 'SIGTERM'), late])
    clearTimeout(timer)
    if (outcome === 'late') {
      await signalAndWait(child, 'SIGKILL')
      throw new Error(`redis-server on 127.0.0.1:${port} did not exit within ${EXIT_WAIT_MS} ms of SIGTERM; killed it:\n${log()}`)
    }
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir: group.dir,
    pid: child.pid!,
    get log() {
      return log()
    },
    stop,
    kill: () => signalAndWait(child, 'SIGKILL'),
    async restart(changes = {}) {
      if (group.closing) throw new Error(`redis-server on 127.0.0.1:${port} was closed; it cannot be restarted`)
      await stop()
      return launch(group, { ...options, ...changes, port, dir: group.dir })
    },
    command,
    async clients() {
      const list = await command('CLIENT', 'LIST')
      if (typeof list !== 'string') throw new Error(`CLIENT LIST answered ${JSON.stringify(list)}`)
      return parseClientList(list).filter((client) => client['name'] !== COMMAND_CLIENT_NAME)
    },
    close: () => closeGroup(group),
  }
}
