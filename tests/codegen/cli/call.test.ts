import { createServer } from 'node:net'
import { beforeAll, describe, expect, it } from 'vitest'
import { main, type CliIo } from '@wirecall/codegen'
import { startFaultProxy } from '../../helpers/fault-proxy'
import { waitUntil } from '../../helpers/harness'
import { CHILD_TEST_TIMEOUT_MS, requireBin, runBin, runToExit } from './bin'
import { startFixtureServer } from './fixture-server'

/**
 * `wirecall call` as a user runs it: the built bin in a child process
 * against a real server on 127.0.0.1. Results go to stdout, the connection's
 * states and errors to stderr, and the exit code says which of ok (0), an
 * RpcError (2), a connection failure (3) or a usage error (1) happened.
 */

beforeAll(requireBin)

/** A port on 127.0.0.1 that nothing listens on: bound by the kernel, then released. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('wirecall call: answers', { timeout: CHILD_TEST_TIMEOUT_MS }, () => {
  it('prints the answer on stdout and the connection states on stderr; exit 0', async () => {
    const { url } = await startFixtureServer()
    const run = await runToExit(['call', url, 'greet', '{"name":"Ada"}'])
    expect(run.exit.code, run.output).toBe(0)
    expect(run.stdout).toBe("'hello Ada'\n")
    expect(run.stderr).toContain(`wirecall: connecting to ${url}\n`)
    expect(run.stderr).toContain('wirecall: open\n')
    expect(run.stderr).toContain('wirecall: closed\n')
  })

  it('revives rich values and shows them as util.inspect does, without colours off a terminal', async () => {
    const { url } = await startFixtureServer()
    const run = await runToExit(['call', url, 'rich'])
    expect(run.exit.code, run.output).toBe(0)
    expect(run.stdout).toContain('at: 2024-01-02T03:04:05.000Z')
    expect(run.stdout).toContain("tags: Map(1) { 'a' => 1 }")
    expect(run.stdout).toContain('big: 12345678901234567890n')
    expect(run.stdout).toContain('seen: Set(2) { 1, 2 }')
    expect(run.stdout).toContain("href: 'https://example.com/x'")
    expect(run.stdout).toContain('none: undefined')
    expect(run.stdout).not.toContain('\u001b[')
  })

  it('--json prints one line of JSON, rich values in their wire form', async () => {
    const { url } = await startFixtureServer()
    const run = await runToExit(['call', url, 'rich', '--json'])
    expect(run.exit.code, run.output).toBe(0)
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!)).toEqual({
      at: '2024-01-02T03:04:05.000Z',
      tags: [['a', 1]],
      big: '12345678901234567890',
      seen: [1, 2],
      home: 'https://example.com/x',
      none: null,
    })
  })

  it('--mutation runs a mutation', async () => {
    const { url, side } = await startFixtureServer()
    const run = await runToExit(['call', url, 'post.add', '{"title":"first"}', '--mutation', '--json'])
    expect(run.exit.code, run.output).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual({ id: 1, title: 'first' })
    expect(side.added).toEqual(['first'])
  })

  it('--params reaches createContext as connectionParams', async () => {
    const { url, side } = await startFixtureServer()
    const run = await runToExit(['call', url, 'whoami', '--params', '{"token":"t1"}'])
    expect(run.exit.code, run.output).toBe(0)
    expect(run.stdout).toBe("'user-t1'\n")
    expect(side.params).toEqual([{ token: 't1' }])
  })
})

describe('wirecall call: the kind of a procedure', { timeout: CHILD_TEST_TIMEOUT_MS }, () => {
  it('a mutation called as a query: the server refuses before it runs; exit 2 and the flag to use', async () => {
    const { url, side } = await startFixtureServer()
    const run = await runToExit(['call', url, 'post.add', '{"title":"nope"}'])
    expect(run.exit.code, run.output).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain('METHOD_NOT_SUPPORTED: "post.add" is a mutation, not a query\n')
    expect(run.stderr).toContain('wirecall: post.add is a mutation: add --mutation\n')
    expect(side.added).toEqual([])
  })

  it('a query called with --mutation: exit 2, run it without the flag', async () => {
    const { url } = await startFixtureServer()
    const run = await runToExit(['call', url, 'greet', '{"name":"Ada"}', '--mutation'])
    expect(run.exit.code, run.output).toBe(2)
    expect(run.stderr).toContain('wirecall: greet is a query: run it without --mutation\n')
  })

  it('a subscription: exit 2, pointing at wirecall subscribe', async () => {
    const { url } = await startFixtureServer()
    const run = await runToExit(['call', url, 'feed'])
    expect(run.exit.code, run.output).toBe(2)
    expect(run.stderr).toContain(`wirecall: feed is a subscription: run wirecall subscribe ${url} feed\n`)
  })
})

describe('wirecall call: errors', { timeout: CHILD_TEST_TIMEOUT_MS }, () => {
  it('an RpcError from the server: exit 2, its code, message and data on stderr', async () => {
    const { url } = await startFixtureServer()
    const run = await runToExit(['call', url, 'fail'])
    expect(run.exit.code, run.output).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain('CONFLICT: already there\n')
    expect(run.stderr).toContain('data: { id: 7 }\n')
  })

  it('an unknown path: exit 2 with NOT_FOUND', async () => {
    const { url } = await startFixtureServer()
    const run = await runToExit(['call', url, 'no.such'])
    expect(run.exit.code, run.output).toBe(2)
    expect(run.stderr).toContain('NOT_FOUND: no procedure at "no.such"')
  })

  it('invalid input: exit 2 with BAD_REQUEST and the issues', async () => {
    const { url } = await startFixtureServer()
    const run = await runToExit(['call', url, 'greet', '{"name":5}'])
    expect(run.exit.code, run.output).toBe(2)
    expect(run.stderr).toMatch(/^BAD_REQUEST: /m)
    expect(run.stderr).toMatch(/^data: \{[\s\S]*issues/m)
  })

  it('a refused connection: exit 3 at once, naming the cause', async () => {
    const port = await closedPort()
    // A timeout far beyond the test's own bound: exiting at all shows the first failure ended it, rather than retries until the timeout.
    const run = await runToExit(['call', `ws://127.0.0.1:${port}/rpc`, 'greet', '{"name":"Ada"}', '--timeout', '600000'], CHILD_TEST_TIMEOUT_MS - 5_000)
    expect(run.exit.code, run.output).toBe(3)
    expect(run.stdout).toBe('')
    expect(run.stderr).toBe(
      `wirecall: connecting to ws://127.0.0.1:${port}/rpc\nwirecall: cannot connect to ws://127.0.0.1:${port}/rpc: 1006: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    )
  })

  it('createContext refusing (4401): exit 3', async () => {
    const { url } = await startFixtureServer()
    const run = await runToExit(['call', url, 'greet', '{"name":"Ada"}', '--params', '{"token":"bad"}'])
    expect(run.exit.code, run.output).toBe(3)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain(`wirecall: cannot connect to ${url}: 4401: sign in first\n`)
  })

  it('no answer within --timeout: exit 3, and the server is told to cancel', async () => {
    const { url, side } = await startFixtureServer()
    const run = await runToExit(['call', url, 'slow', '--timeout', '300'])
    expect(run.exit.code, run.output).toBe(3)
    expect(run.stderr).toContain('wirecall: no answer within 300 ms; the call was cancelled\n')
    await waitUntil(() => side.slowCancelled.count === 1, 'the server to see the cancel', 15_000)
  })

  it('invalid JSON input: exit 1, naming the position', async () => {
    const { url, side } = await startFixtureServer()
    const run = await runToExit(['call', url, 'greet', '{"name":}'])
    expect(run.exit.code, run.output).toBe(1)
    expect(run.stderr).toContain("wirecall: the input is not valid JSON: unexpected '}', expected a value at position 8: {\"name\":▸}\n")
    expect(side.params).toEqual([]) // it never connected
  })
})

describe('wirecall call: a connection that drops', { timeout: CHILD_TEST_TIMEOUT_MS }, () => {
  it('a query in flight is sent again after the reconnect, within --timeout: exit 0', async () => {
    const { port, side } = await startFixtureServer()
    const proxy = await startFaultProxy(port)
    const child = runBin(['call', proxy.url('/rpc'), 'flaky'])
    await waitUntil(() => side.runs.flaky === 1, 'the first try to reach the server', 15_000)
    proxy.cut()
    const exit = await child.exited()
    expect(exit.code, child.output()).toBe(0)
    expect(child.stdout()).toBe("'answered on try 2'\n")
    expect(child.stderr()).toMatch(/wirecall: closed \(1006[^)]*\); reconnecting in \d+ ms, attempt 1\n/)
  })

  it('a mutation in flight is not sent again (at most once): exit 3, saying it may have run', async () => {
    const { port, side } = await startFixtureServer()
    const proxy = await startFaultProxy(port)
    const child = runBin(['call', proxy.url('/rpc'), 'post.hang', '--mutation'])
    await waitUntil(() => side.runs.hang === 1, 'the mutation to reach the server', 15_000)
    proxy.cut()
    const exit = await child.exited()
    expect(exit.code, child.output()).toBe(3)
    expect(child.stderr()).toContain('wirecall: connection lost: connection closed (1006); the mutation may or may not have run\n')
    expect(side.runs.hang).toBe(1)
  })

  it('dropped and not restored within --timeout: exit 3', async () => {
    const { port, side } = await startFixtureServer()
    const proxy = await startFaultProxy(port)
    const child = runBin(['call', proxy.url('/rpc'), 'flaky', '--timeout', '3000'])
    await waitUntil(() => side.runs.flaky === 1, 'the first try to reach the server', 15_000)
    proxy.refuse(true)
    proxy.cut()
    const exit = await child.exited()
    expect(exit.code, child.output()).toBe(3)
    expect(child.stderr()).toContain('wirecall: no answer within 3000 ms (the connection is reconnecting); the call was cancelled\n')
  })
})

describe('wirecall call in-process (main with its own io)', () => {
  function memoryIo(options: { tty?: boolean; env?: Record<string, string>; signal?: AbortSignal } = {}) {
    const out = { stdout: '', stderr: '' }
    const io: CliIo = {
      stdout: { write: (text: string) => (out.stdout += text), isTTY: options.tty },
      stderr: { write: (text: string) => (out.stderr += text), isTTY: options.tty },
      cwd: process.cwd(),
      env: options.env ?? {},
      signal: options.signal ?? new AbortController().signal,
    }
    return { io, out }
  }

  it('colours on a terminal, not with NO_COLOR, never with --json', async () => {
    const { url } = await startFixtureServer()
    const tty = memoryIo({ tty: true })
    expect(await main(['call', url, 'rich'], tty.io)).toBe(0)
    expect(tty.out.stdout).toContain('\u001b[')
    const noColor = memoryIo({ tty: true, env: { NO_COLOR: '1' } })
    expect(await main(['call', url, 'rich'], noColor.io)).toBe(0)
    expect(noColor.out.stdout).not.toContain('\u001b[')
    const json = memoryIo({ tty: true })
    expect(await main(['call', url, 'rich', '--json'], json.io)).toBe(0)
    expect(json.out.stdout).not.toContain('\u001b[')
  })

  it('Ctrl-C (the io signal) cancels the call on the server: exit 130', async () => {
    const { url, side } = await startFixtureServer()
    const stop = new AbortController()
    const { io, out } = memoryIo({ signal: stop.signal })
    const status = main(['call', url, 'slow'], io)
    await waitUntil(() => out.stderr.includes('wirecall: open\n'), 'the connection to open', 15_000)
    stop.abort()
    expect(await status).toBe(130)
    expect(out.stderr).toContain('wirecall: interrupted; the call was cancelled\n')
    await waitUntil(() => side.slowCancelled.count === 1, 'the server to see the cancel', 15_000)
  })
})
