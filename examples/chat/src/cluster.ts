import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startRoundRobinProxy } from './round-robin-proxy'

/**
 * `pnpm --filter @wirecall/example-chat start:cluster`: the chat on two
 * processes sharing one Redis, behind a round-robin proxy, as a deployment
 * would run it. Starts Debian's redis-server on a free loopback port with a
 * temp dir (unless `REDIS_URL` is set), two chat processes on `PORT + 1`
 * and `PORT + 2` with `REDIS_URL`, and the proxy on `PORT` (3000). Kill
 * either chat process with the `kill -9` it prints: its pages reconnect
 * through the proxy to the other one and lose nothing. Ctrl-C stops
 * everything, each by its pid.
 */

const REDIS_SERVER = '/usr/bin/redis-server'
const exampleDir = fileURLToPath(new URL('..', import.meta.url))
const host = '127.0.0.1'
const port = Number(process.env.PORT ?? 3000)
const children: { name: string; child: ChildProcess }[] = []
let tempDir: string | undefined
let stopping = false

/** Starts a child and resolves once it prints `readyText`; rejects with its output if it exits first or takes over `timeoutMs`. */
function startChild(name: string, command: string, args: string[], env: Record<string, string>, readyText: string, timeoutMs = 30_000): Promise<ChildProcess> {
  const child = spawn(command, args, { cwd: exampleDir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push({ name, child })
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs / 1_000} s:\n${output}`)), timeoutMs)
    const read = (chunk: Buffer) => {
      if (output.includes(readyText)) return // started: its own logs are for its terminal, not ours
      output += String(chunk)
      if (output.includes(readyText)) {
        clearTimeout(timer)
        resolve(child)
      }
    }
    child.stdout!.on('data', read)
    child.stderr!.on('data', (chunk: Buffer) => {
      read(chunk)
      if (output.includes(readyText)) process.stderr.write(`[${name}] ${String(chunk)}`)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited (${code ?? signal}) before it started:\n${output}`))
      if (!stopping) console.log(`cluster: ${name} (pid ${child.pid}) exited (${code ?? signal}); the proxy sends its pages to the others`)
    })
  })
}

/** A loopback port that was free a moment ago. */
async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, host, resolve))
  const { port: free } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return free
}

/** A Redis of our own: no persistence, a temp dir removed on exit. */
async function startRedis(): Promise<string> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} is missing: install it (bash scripts/ensure-redis.sh at the repository root), or set REDIS_URL`)
  const redisPort = await freePort()
  tempDir = mkdtempSync(join(tmpdir(), 'wirecall-chat-redis-'))
  const args = ['--port', String(redisPort), '--bind', host, '--dir', tempDir, '--save', '', '--appendonly', 'no', '--logfile', '']
  const redis = await startChild('redis', REDIS_SERVER, args, {}, 'Ready to accept connections')
  console.log(`cluster: redis-server on ${host}:${redisPort} (pid ${redis.pid})`)
  return `redis://${host}:${redisPort}`
}

/** Waits until `child` has exited, sending SIGKILL after `graceMs`. */
function exited(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/** Stops the chat processes (a graceful close each), then Redis, each by its pid; removes the temp dir. */
async function stopAll(): Promise<void> {
  stopping = true
  const chats = children.filter(({ name }) => name !== 'redis')
  for (const { child } of chats) if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM')
  await Promise.all(chats.map(({ child }) => exited(child, 5_000)))
  for (const { name, child } of children) if (name === 'redis' && child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM')
  await Promise.all(children.map(({ child }) => exited(child, 5_000)))
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true })
}

try {
  const redisUrl = process.env.REDIS_URL || (await startRedis())
  const ports = [port + 1, port + 2]
  const nodes = await Promise.all(
    ports.map((nodePort, i) =>
      startChild(`chat ${'AB'[i]}`, process.execPath, ['--import', 'tsx', 'src/main.ts'], { PORT: String(nodePort), HOST: host, REDIS_URL: redisUrl }, 'chat: open'),
    ),
  )
  const proxy = await startRoundRobinProxy({ upstreams: ports, port, host })
  nodes.forEach((node, i) => console.log(`cluster: chat ${'AB'[i]} on ${host}:${ports[i]} (pid ${node.pid}): try \`kill -9 ${node.pid}\``))
  console.log(`cluster: open http://localhost:${proxy.port}/ in two windows; the proxy spreads connections over both chat processes`)
  console.log('cluster: stop everything with Ctrl-C')
  const stop = () => {
    console.log('cluster: stopping')
    void proxy
      .close()
      .then(stopAll)
      .then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
} catch (error) {
  console.error(`cluster: ${error instanceof Error ? error.message : String(error)}`)
  await stopAll()
  process.exit(1)
}
