import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createChannel } from '@wirecall/server'
import { startServer } from '../helpers/harness'
import { bundle } from './bundle'
import { EXPECTED_RICH } from './expected'
import type { ScenarioReport } from './fixtures/probe'
import { createTestRouter, eventDate, type FeedEvent } from './fixtures/router'

/**
 * The client in plain Node processes, with no `WebSocket` option: the
 * runtime's own global or nothing. Each script (fixtures/node-*.ts) is
 * bundled by esbuild from the packages' sources and fed to a child `node`
 * on stdin; the server runs in the test process.
 */

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

/** Whether `node` with `flags` has a global WebSocket. */
const hasGlobalWebSocket = (flags: string[]) =>
  spawnSync(process.execPath, [...flags, '-e', 'process.exit(typeof WebSocket === "function" ? 0 : 1)']).status === 0

// Node 22+ has the global by default; Node 20.10+ behind --experimental-websocket (undici's WHATWG WebSocket).
const nativeGlobal = hasGlobalWebSocket([])
const globalFlags = nativeGlobal ? [] : ['--experimental-websocket']
const flagWorks = nativeGlobal || hasGlobalWebSocket(globalFlags)

interface Outcome {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs `script` (bundled ESM) in a child `node` with `flags`, `RPC_URL`
 * set, and resolves when it exits by itself. A child still running after
 * `timeoutMs` is killed (by its pid) and the run fails: nothing may keep a
 * script alive once its client is closed.
 */
function runNode(script: string, flags: string[], rpcUrl: string, timeoutMs = 10_000): Promise<Outcome> {
  const child = spawn(process.execPath, [...flags, '--input-type=module'], {
    env: { ...process.env, RPC_URL: rpcUrl, NODE_OPTIONS: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  child.stdin.end(script)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`node did not exit within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`))
    }, timeoutMs)
    child.once('error', reject)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** The last stdout line, parsed. */
const lastLine = (stdout: string): unknown => JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null')

describe('the client in Node, without the WebSocket option', () => {
  it.skipIf(!flagWorks)(
    `uses the global WebSocket (${nativeGlobal ? 'native in this Node' : '--experimental-websocket'}): calls, a subscription, then exits by itself`,
    async () => {
      const feed = createChannel<FeedEvent>({ history: 10 })
      const { url } = await startServer({ router: createTestRouter(feed) })
      const { code: script } = await bundle(fixture('node-global-websocket.ts'), { platform: 'node' })
      const run = await runNode(script, globalFlags, url)
      expect(run.code, run.stderr).toBe(0)
      const report = lastLine(run.stdout) as ScenarioReport
      expect(report.globalWebSocket).toBe('function')
      expect(report.hasDocument).toBe(false)
      expect(report.rich).toEqual(EXPECTED_RICH)
      expect(report.total).toBe('bigint:42')
      expect(report.error).toEqual({ isRpcError: true, code: 'NOT_FOUND', message: 'no item nope' })
      expect(report.feed.ns).toEqual([1, 2, 3])
      expect(report.feed.ats).toEqual([1, 2, 3].map((n) => eventDate(n).toISOString()))
      expect(report.feed.ids.at(-1)).toBe(feed.lastEventId)
      expect(report.states).toEqual(['connecting', 'open', 'closed'])
    },
  )

  it.skipIf(nativeGlobal)('ends at once with INTERNAL when the runtime has no WebSocket at all (Node 20 without the flag)', async () => {
    const feed = createChannel<FeedEvent>()
    const { url, server } = await startServer({ router: createTestRouter(feed) })
    const { code: script } = await bundle(fixture('node-missing-websocket.ts'), { platform: 'node' })
    const run = await runNode(script, [], url)
    expect(run.code, run.stderr).toBe(0)
    const outcome = lastLine(run.stdout) as Record<string, unknown>
    expect(outcome).toMatchObject({ outcome: 'rejected', isRpcError: true, code: 'INTERNAL', state: 'closed' })
    expect(outcome.message).toMatch(/WebSocket/)
    expect(server.stats().connections).toBe(0)
  })
})
