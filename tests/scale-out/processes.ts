import { spawn } from 'node:child_process'
import { onTestFinished } from 'vitest'
import { watchChild, type WatchedChild } from '../helpers/watched-child'

/**
 * The processes of a scale-out scenario: wirecall nodes (fixtures/node.ts)
 * and the publisher (fixtures/publisher.ts), each a real child process run
 * from its bundle. Every node is killed (SIGKILL, by its pid) after the test
 * by watched-child's `afterEach`, whatever happened; the publisher serves
 * the whole file and is closed in `afterAll`.
 */

/** How long a child may take to print its ready line: a bundle starts in well under a second, even with the machine busy. */
const READY_MS = 10_000

/** One wirecall server process. */
export interface NodeProcess {
  readonly name: string
  readonly port: number
  readonly child: WatchedChild
  /** kill -9, and waits until it is gone. */
  kill(): Promise<void>
  /** SIGTERM: `server.close({ graceMs, reconnectWindowMs })`, then exits; resolves once it has exited. */
  stop(timeoutMs?: number): Promise<void>
}

/** How to start one node. */
export interface NodeOptions {
  name: string
  redisUrl: string
  /** @default a free port, chosen by the node as it listens (no other socket can take it in between) */
  port?: number
  /** The feed's history. @default 1_000 */
  history?: number
  /** More environment (`READERS`, `PRESENCE_TTL_MS`, `CLOSE_WINDOW_MS`, …). */
  env?: Record<string, string>
}

/** Starts a node from `script` (the bundled fixtures/node.ts); resolves once it serves. */
export async function startNode(script: string, options: NodeOptions): Promise<NodeProcess> {
  const env = {
    ...process.env,
    PORT: String(options.port ?? 0),
    REDIS_URL: options.redisUrl,
    NODE_NAME: options.name,
    HISTORY: String(options.history ?? 1_000),
    ...options.env,
  }
  const child = watchChild(process.execPath, [script], { env })
  const ready = new RegExp(`^ready ${options.name} (\\d+)$`, 'm')
  const port = await child.waitFor(() => {
    const match = ready.exec(child.stdout())
    return match === null ? undefined : Number(match[1])
  }, `node ${options.name} to serve`, READY_MS)
  return {
    name: options.name,
    port,
    child,
    async kill() {
      if (child.exit() !== undefined) return
      child.process.kill('SIGKILL')
      await child.exited(5_000)
    },
    async stop(timeoutMs = 10_000) {
      if (child.exit() !== undefined) return
      child.process.kill('SIGTERM')
      await child.exited(timeoutMs)
    },
  }
}

/** One run's view of the publisher process: its Redis and its history. */
export interface Publisher {
  /** Publishes `from..to` one at a time, `intervalMs` apart; resolves once `to` is stored. */
  publish(from: number, to: number, intervalMs?: number): Promise<void>
  /** Resolves once event `n` (of a `publish` under way) is stored. */
  published(n: number, timeoutMs?: number): Promise<void>
  /** Publishes `count` events on `topic` (or the feed), `concurrency` at a time; resolves once all are stored. */
  burst(count: number, options?: { concurrency?: number; topic?: string; timeoutMs?: number }): Promise<void>
}

/**
 * The publisher process (the bundled fixtures/publisher.ts), one for the
 * whole test file: start it in `beforeAll`, `close()` it in `afterAll`.
 * Each run talks to it through {@link PublisherProcess.for}.
 */
export interface PublisherProcess {
  readonly pid: number
  /** The publisher of one run, on `redisUrl`; its connection there is closed after the test. */
  for(redisUrl: string, history?: number): Publisher
  /** Ends the process (stdin closed, then SIGKILL by its pid if it lingers). */
  close(): Promise<void>
}

export async function startPublisherProcess(script: string): Promise<PublisherProcess> {
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const lines = new Set<string>()
  /** Command id → its `failed` line. */
  const failures = new Map<string, string>()
  const waiters = new Set<() => void>()
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    const end = stdout.lastIndexOf('\n')
    for (const line of stdout.slice(0, end + 1).split('\n')) {
      if (line === '') continue
      lines.add(line)
      const failed = /^(\d+) failed/.exec(line)
      if (failed !== null) failures.set(failed[1]!, line)
    }
    stdout = stdout.slice(end + 1)
    for (const wake of [...waiters]) wake()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-16_384)
  })
  child.stdin.on('error', () => {})
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.once('exit', () => {
    for (const wake of [...waiters]) wake()
  })
  const line = (text: string, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        const failed = failures.get(text.split(' ')[0]!)
        if (lines.has(text)) finish(resolve)
        else if (failed !== undefined) finish(() => reject(new Error(`the publisher: ${failed}\n${stderr}`)))
        else if (child.exitCode !== null || child.signalCode !== null) finish(() => reject(new Error(`the publisher exited waiting for "${text}"\n${stderr}`)))
      }
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for the publisher to print "${text}"\n${stderr}`))), timeoutMs)
      const finish = (settle: () => void) => {
        clearTimeout(timer)
        waiters.delete(check)
        settle()
      }
      waiters.add(check)
      check()
    })
  await line('ready publisher', READY_MS).catch(async (error: unknown) => {
    child.kill('SIGKILL')
    await exited
    throw error
  })
  let ids = 0
  const send = (command: Record<string, unknown>): number => {
    const id = ++ids
    child.stdin.write(`${JSON.stringify({ id, ...command })}\n`)
    return id
  }
  return {
    pid: child.pid!,
    for(redisUrl, history = 1_000) {
      onTestFinished(() => line(`${send({ op: 'forget', redisUrl })} done`, 5_000))
      let current = 0
      return {
        publish(from, to, intervalMs = 0) {
          current = send({ op: 'publish', redisUrl, history, from, to, intervalMs })
          const done = line(`${current} done`, 20_000 + (to - from) * (intervalMs + 5))
          // A scenario that failed before awaiting its publish must not also report it as unhandled once its Redis is gone.
          done.catch(() => {})
          return done
        },
        published: (n, timeoutMs = 10_000) => line(`${current} published ${n}`, timeoutMs),
        async burst(count, options = {}) {
          const id = send({ op: 'burst', redisUrl, history, count, concurrency: options.concurrency ?? 500, ...(options.topic === undefined ? {} : { topic: options.topic }) })
          await line(`${id} done`, options.timeoutMs ?? 30_000)
        },
      }
    },
    async close() {
      child.stdin.end()
      const timer = setTimeout(() => child.kill('SIGKILL'), 2_000)
      await exited
      clearTimeout(timer)
    },
  }
}
