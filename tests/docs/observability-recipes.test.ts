import { Writable } from 'node:stream'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { pino, type Logger } from 'pino'
import { z } from 'zod'
import { createChannel, initRpc, RpcError, type ServerInstrumentation } from '@wirecall/server'
import { startFaultProxy } from '../helpers/fault-proxy'
import { connectClient, readyPeer, rpcErrorOf, startServer, untilAborted, waitUntil } from '../helpers/harness'
import { codeBlocks } from './markdown'

/**
 * Runs the pino recipe of docs/observability.md as the page writes it: the
 * `// logging.ts` block is taken from the page, compiled to JavaScript and
 * called with a real pino logger writing to memory, then plugged into a
 * real server on 127.0.0.1. Each test drives one thing the recipe logs (a
 * call, a failed call, a cancelled one, a resync, a slow reader cut off
 * and its close) and checks the lines. The block's types are checked by
 * code-blocks.test.ts with the rest of the page.
 */

const PAGE = 'docs/observability.md'

/** The recipe's `pinoInstrumentation`, from the page's `// logging.ts` block. */
function recipeFromPage(): (log: Logger) => ServerInstrumentation {
  const block = codeBlocks(PAGE).find((b) => b.lang === 'ts' && b.code.startsWith('// logging.ts'))
  if (block === undefined) throw new Error(`${PAGE} has no \`// logging.ts\` block`)
  // Its imports are types only (the logger comes in as an argument): nothing to provide at run time.
  const valueImports = block.code.split('\n').filter((line) => line.startsWith('import ') && !line.startsWith('import type '))
  expect(valueImports, 'the recipe imports only types').toEqual([])
  const { outputText } = ts.transpileModule(block.code, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
  })
  const module = { exports: {} as { pinoInstrumentation?: (log: Logger) => ServerInstrumentation } }
  new Function('module', 'exports', outputText)(module, module.exports)
  if (typeof module.exports.pinoInstrumentation !== 'function') throw new Error(`${PAGE}: the logging.ts block exports no pinoInstrumentation function`)
  return module.exports.pinoInstrumentation
}

/** A pino logger writing JSON lines to memory; `time`, `pid` and `hostname` left out so lines compare. */
function memoryLogger() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  const log = pino({ base: null, timestamp: false }, stream)
  return { log, lines }
}

const rpc = initRpc.create()

/** A query with a validated input, one that waits until cancelled, and a channel with a short history. */
function recipeRouter() {
  const messages = createChannel<{ text: string }>({ name: 'messages', history: 2 })
  const router = rpc.router({
    greet: rpc.procedure.input(z.object({ name: z.string().min(1) })).query(({ input }) => `Hello, ${input.name}!`),
    wait: rpc.procedure.query(({ signal }) => untilAborted(signal)),
    fail: rpc.procedure.mutation(() => {
      throw new RpcError('CONFLICT', 'taken')
    }),
    messages: rpc.procedure.subscription(({ lastEventId, signal }) => messages.subscribe({ lastEventId, signal })),
  })
  return { router, messages }
}

const recipe = recipeFromPage()

describe('docs/observability.md: the pino recipe', () => {
  it('logs a call, a failed call and a cancelled call, with the connection, path and time', async () => {
    const { log, lines } = memoryLogger()
    const { router } = recipeRouter()
    const { url } = await startServer({ router, instrumentation: [recipe(log)] })
    const api = connectClient<typeof router>(url)

    expect(await api.greet.query({ name: 'Ada' })).toBe('Hello, Ada!')
    expect((await rpcErrorOf(api.greet.query({ name: '' }))).code).toBe('BAD_REQUEST')
    expect((await rpcErrorOf(api.fail.mutate())).code).toBe('CONFLICT')
    const abort = new AbortController()
    const waiting = rpcErrorOf(api.wait.query(undefined, { signal: abort.signal }))
    await waitUntil(() => lines.length === 3, 'the first three calls to be logged')
    abort.abort()
    expect((await waiting).code).toBe('CANCELLED')
    await waitUntil(() => lines.length === 4, 'the cancelled call to be logged')

    for (const line of lines) expect(line.ms).toEqual(expect.any(Number))
    const withoutMs = lines.map(({ ms: _ms, ...line }) => line)
    expect(withoutMs).toEqual([
      { level: 30, conn: 1, method: 'query', path: 'greet', msg: 'call' },
      { level: 40, conn: 1, method: 'query', path: 'greet', code: 'BAD_REQUEST', msg: 'call failed' },
      { level: 40, conn: 1, method: 'mutation', path: 'fail', code: 'CONFLICT', msg: 'call failed' },
      { level: 30, conn: 1, method: 'query', path: 'wait', reason: 'cancel', msg: 'call cancelled' },
    ])
  })

  it('logs a subscription that had to resync (its lastEventId trimmed from the history), and the connection closing', async () => {
    const { log, lines } = memoryLogger()
    const { router, messages } = recipeRouter()
    const { url } = await startServer({ router, instrumentation: [recipe(log)] })
    const first = messages.publish({ text: 'one' })
    for (const text of ['two', 'three', 'four']) messages.publish({ text })

    const peer = await readyPeer(url)
    peer.send({ type: 'subscribe', id: 1, path: 'messages', lastEventId: first })
    await peer.next((m) => m.type === 'resync' && m.id === 1)
    await waitUntil(() => lines.length === 1, 'the resync to be logged')
    expect(lines[0]).toEqual({ level: 40, conn: 1, path: 'messages', reason: 'trimmed', msg: 'subscription resync' })

    peer.ws.close(1000)
    await peer.closed
    await waitUntil(() => lines.length === 2, 'the close to be logged')
    expect(lines[1]).toEqual({ level: 30, conn: 1, address: '127.0.0.1', code: 1000, durationMs: expect.any(Number), msg: 'connection closed' })
  })

  it('logs backpressure on a reader that stops reading, then the slow consumer cut off and its connection closed with 1013', async () => {
    const { log, lines } = memoryLogger()
    const chunk = 'x'.repeat(64 * 1_024)
    const router = rpc.router({
      stream: rpc.procedure.subscription(async function* ({ signal }) {
        while (!signal.aborted) yield chunk
      }),
    })
    const backpressure = { highWaterMark: 256 * 1_024, lowWaterMark: 64 * 1_024, maxBufferedAmount: 64 * 1_024 * 1_024, slowConsumerTimeoutMs: 300 }
    const { port } = await startServer({ router, backpressure, instrumentation: [recipe(log)] })
    const proxy = await startFaultProxy(port)
    // No reconnect: the 1013 ends it, instead of starting another stream.
    const api = connectClient<typeof router>(proxy.url('/rpc'), { reconnect: false, keepAlive: false })
    let received = 0
    api.stream.subscribe(undefined, { onData: () => received++, onError: () => {} })
    await waitUntil(() => received >= 4, 'the first chunks')
    proxy.stall()

    // The server cuts the reader off after slowConsumerTimeoutMs (the code it sends is 1013), and terminates
    // the socket a second later, since the stalled reader cannot answer the close.
    await waitUntil(() => lines.some((line) => line.msg === 'connection closed'), 'the slow reader to be cut off and its close logged', 8_000)
    const messages = lines.map((line) => line.msg)
    const pause = lines.findIndex((line) => line.msg === 'backpressure' && line.kind === 'pause')
    const cut = messages.indexOf('slow consumer cut off')
    const close = messages.indexOf('connection closed')
    expect(pause, messages.join(', ')).toBeGreaterThanOrEqual(0)
    expect(pause).toBeLessThan(cut)
    expect(cut).toBeLessThan(close)
    expect(lines[pause]).toEqual({ level: 30, conn: 1, kind: 'pause', bufferedAmount: expect.any(Number), msg: 'backpressure' })
    expect(lines[pause]!.bufferedAmount as number).toBeGreaterThanOrEqual(backpressure.highWaterMark)
    expect(lines[cut]).toEqual({ level: 40, conn: 1, bufferedAmount: expect.any(Number), msg: 'slow consumer cut off' })
    expect(lines[close]).toEqual({ level: 30, conn: 1, address: '127.0.0.1', code: 1013, durationMs: expect.any(Number), msg: 'connection closed' })
  })
})
