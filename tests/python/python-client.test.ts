import { describe, expect, it, onTestFinished } from 'vitest'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Deployment, startControl, type ControlRoutes } from './scenario'
import { conformanceRoutes } from './conformance'

/**
 * The Python reference client (clients/python, Debian's /usr/bin/python3
 * with python3-websockets) against a real wirecall server on 127.0.0.1.
 * Each test starts the scenario server and its control endpoint, runs one
 * module of clients/python/tests with `python3 -m unittest`, and passes when
 * every Python test passed. The Python tests reach the server through
 * WIRECALL_URL and ask for drops, restarts and refusals through
 * WIRECALL_CONTROL. `scripts/ensure-python-websockets.sh` installs what this
 * needs.
 */

const PYTHON = '/usr/bin/python3'
const TESTS_DIR = fileURLToPath(new URL('../../clients/python/tests/', import.meta.url))
/** The longest one Python module may take; each test inside is bounded far below it. */
const MODULE_TIMEOUT_MS = 25_000

/** What Python's dev mode prints for a task, socket or exception left behind. */
const LEFT_BEHIND = /Task was destroyed but it is pending|ResourceWarning|was never awaited|Exception in callback|exception was never retrieved|Traceback/

const pythonReady =
  existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import websockets'], { stdio: 'ignore', timeout: 10_000 }).status === 0

interface Outcome {
  code: number | null
  signal: NodeJS.Signals | null
  output: string
}

/** Runs `python3 -m unittest <module>` in clients/python/tests; killed (and failed) past the timeout. */
function runPython(args: string[], env: Record<string, string>, timeoutMs = MODULE_TIMEOUT_MS): Promise<Outcome> {
  const child = spawn(PYTHON, ['-X', 'dev', '-u', ...args], {
    cwd: TESTS_DIR,
    env: { ...process.env, ...env, PYTHONDONTWRITEBYTECODE: '1', PYTHONWARNINGS: 'default' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      output += `\n[killed: still running after ${timeoutMs} ms]`
      child.kill('SIGKILL')
    }, timeoutMs)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, output })
    })
  })
}

/** Starts the scenario server and its control endpoint (with `extra` routes), closed after the test. */
async function startScenario(extra: ControlRoutes = {}) {
  const deployment = new Deployment()
  onTestFinished(() => deployment.close())
  await deployment.start()
  const control = await startControl(deployment, extra)
  onTestFinished(() => control.close())
  return { deployment, env: { WIRECALL_URL: deployment.url, WIRECALL_CONTROL: control.url } }
}

/** Runs one module of clients/python/tests against a fresh scenario server; asserts that all its tests passed. */
async function passes(module: string, extra?: ControlRoutes): Promise<void> {
  expect(pythonReady, `${PYTHON} cannot import websockets: run scripts/ensure-python-websockets.sh (apt-get install python3-websockets)`).toBe(true)
  const { deployment, env } = await startScenario(extra)
  const outcome = await runPython(['-m', 'unittest', '-v', module], env)
  expect(outcome.code, `python -m unittest ${module} failed:\n${outcome.output}`).toBe(0)
  expect(outcome.output, `no test ran in ${module}:\n${outcome.output}`).toMatch(/\nRan [1-9]\d* tests? in /)
  expect(outcome.output, `a test was skipped in ${module}:\n${outcome.output}`).not.toMatch(/skipped=/)
  // Python's dev mode reports what a test left behind: tasks never finished, sockets never closed, exceptions nobody saw.
  expect(outcome.output, `${module} left something behind:\n${outcome.output}`).not.toMatch(LEFT_BEHIND)
  // Whatever the tests did, the server is left with no connection of theirs.
  await deployment.close()
}

describe('python client', () => {
  it('encodes and decodes payloads as the JavaScript serializer does (no server)', async () => {
    await passes('test_encoding')
  })

  it('validates server frames all or nothing (no server)', async () => {
    await passes('test_frames')
  })

  it('holds to the protocol against a peer that breaks it, and batches what it sends', async () => {
    await passes('test_client_protocol')
  })

  it('handshake: subprotocol, init and ack, refusals with the close codes of docs/protocol.md', async () => {
    await passes('test_handshake')
  })

  it('calls: 500 in flight answered out of order, errors, cancellation, timeouts, batch frames', async () => {
    await passes('test_calls')
  })

  it('subscriptions: started, data with eventId, resync, complete, error, unsubscribe', async () => {
    await passes('test_subscriptions')
  })

  it('reconnects: resume with lastEventId and resync after a dropped socket, idempotency keys, close-code bands, keep-alive', async () => {
    await passes('test_reconnect')
  })

  it('deploys: restart notice and 1012, 1001, and a crash, with a new server on the same port', async () => {
    await passes('test_restart')
  })

  it('reinit: new params over the open connection', async () => {
    await passes('test_reinit')
  })

  it('payloads: rich values both ways through the real server', async () => {
    await passes('test_payloads')
  })

  it('replays the payload encoding vectors of docs/protocol/vectors.json', async () => {
    await passes('test_vectors')
  })

  it('plays the conformance transcripts of docs/protocol/conformance/ against the conformance server', async () => {
    const conformance = conformanceRoutes()
    onTestFinished(() => conformance.closeAll())
    await passes('test_conformance', conformance.routes)
  })
})
