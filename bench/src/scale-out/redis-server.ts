/**
 * The scale-out case's Redis: Debian's `/usr/bin/redis-server` (installed
 * by `scripts/ensure-redis.sh`), started by the bench on a free 127.0.0.1
 * port with a temp dir and no persistence, and stopped by its PID at the end
 * of each run, also when the run fails. A process-exit hook kills any that
 * is still running, so Ctrl-C or a crash of the orchestrator leaves none
 * behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient } from 'redis'

/** Where Debian's package puts the server; the bench runs this one and no other on PATH. */
export const REDIS_SERVER = '/usr/bin/redis-server'

/** How long the server may take to answer its first PING. */
const START_TIMEOUT_MS = 10_000
/** How long a SIGTERM may take before SIGKILL. */
const STOP_TIMEOUT_MS = 5_000

/** A running redis-server of one run. */
export interface BenchRedis {
  readonly url: string
  readonly pid: number
  /** CPU time (user + system) the server has used since it started, µs: `INFO CPU` (µs resolution), or `/proc/<pid>/stat` (10 ms ticks) if INFO lacks the fields. */
  cpuUs(): Promise<number>
  /** `INFO` fields the report quotes (`used_memory`, `connected_clients`, …). */
  info(section: string): Promise<Record<string, string>>
  /** SIGTERM by PID, SIGKILL after 5 s; removes the temp dir. Idempotent. */
  stop(): Promise<void>
}

const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** The server's version line, or a reason it cannot run here. */
export function redisVersion(): string {
  const result = spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8', timeout: 5_000 })
  if (result.status !== 0) throw new Error(`${REDIS_SERVER} is missing or does not run: run 'bash scripts/ensure-redis.sh' first`)
  return result.stdout.trim()
}

/** A port free on 127.0.0.1 now (the kernel's pick, released at once). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** `/proc/<pid>/stat`'s utime + stime, in µs. */
function procCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces; the fields after it are plain.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return (ticks * 1e6) / 100
}

/** Starts a redis-server with no persistence on a free loopback port; resolves once it answers PING. */
export async function startRedis(): Promise<BenchRedis> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'wirecall-bench-redis-'))
  const child = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--logfile', '', '--daemonize', 'no', '--protected-mode', 'yes'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  running.add(child)
  let log = ''
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-8_192)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  void exited.then(() => running.delete(child))
  const url = `redis://127.0.0.1:${port}`
  const pid = child.pid
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
      await exited
      clearTimeout(timer)
    }
    rmSync(dir, { recursive: true, force: true })
  }
  if (pid === undefined) {
    await stop()
    throw new Error(`${REDIS_SERVER} did not start`)
  }
  // One connection of its own for INFO: a run's publishing clients stay out of the orchestrator.
  const admin = createClient({ url, socket: { reconnectStrategy: false } })
  admin.on('error', () => {})
  try {
    const deadline = Date.now() + START_TIMEOUT_MS
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}) at start:\n${log}`)
      try {
        await admin.connect()
        break
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within ${START_TIMEOUT_MS / 1000} s:\n${log}`, { cause: error })
        await sleep(50)
      }
    }
  } catch (error) {
    await stop()
    throw error
  }
  const info = async (section: string) => {
    const text = await admin.info(section)
    const fields: Record<string, string> = {}
    for (const line of text.split('\r\n')) {
      const colon = line.indexOf(':')
      if (colon > 0 && !line.startsWith('#')) fields[line.slice(0, colon)] = line.slice(colon + 1)
    }
    return fields
  }
  return {
    url,
    pid,
    async cpuUs() {
      // INFO CPU counts µs; /proc only 10 ms ticks. Both are the process's own getrusage; INFO is the finer one.
      const cpu = await info('cpu')
      const seconds = Number(cpu.used_cpu_user) + Number(cpu.used_cpu_sys)
      return Number.isFinite(seconds) ? seconds * 1e6 : procCpuUs(pid)
    },
    info,
    async stop() {
      await admin.close().catch(() => {})
      await stop()
    },
  }
}
