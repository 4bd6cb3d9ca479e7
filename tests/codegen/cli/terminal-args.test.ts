import { describe, expect, it } from 'vitest'
import { runCli as run } from '../run-cli'

/**
 * Mistakes in the arguments of `call` and `subscribe` are usage errors:
 * exit 1, one line saying what is wrong, then the usage text, and no
 * connection attempted (every URL here points at a port nothing listens
 * on; a connection attempt would show on stderr as "connecting"). Run
 * in-process through `main`: a child process adds nothing to these.
 */

const url = 'ws://127.0.0.1:9/rpc'

const cases: [argv: string[], message: string][] = [
    [['call'], 'call needs <url> and <path>'],
    [['call', url], 'call needs <url> and <path>'],
    [['subscribe', url], 'subscribe needs <url> and <path>'],
    [['call', 'http://127.0.0.1:9/rpc', 'greet'], '"http://127.0.0.1:9/rpc" is not a ws:// or wss:// URL'],
    [['call', 'localhost:3000', 'greet'], '"localhost:3000" is not a ws:// or wss:// URL'],
    [['call', 'not a url', 'greet'], '"not a url" is not a URL'],
    [['call', url, 'post..add'], '"post..add" is not a procedure path'],
    [['call', url, '$connection.close'], '"$connection.close": keys starting with "$" are reserved'],
    [['call', url, 'greet', '{"name":"Ada"}', 'extra'], 'unexpected argument "extra"'],
    [['call', url, 'greet', '{"name":}'], "the input is not valid JSON: unexpected '}', expected a value at position 8: {\"name\":▸}"],
    [['call', url, 'greet', '{\n  "name": "Ada",\n}'], 'the input is not valid JSON: unexpected \'}\', expected a property name in double quotes at position 19, line 3, column 1'],
    [['call', url, 'greet', '--params', '[1]'], '--params must be a JSON object'],
    [['call', url, 'greet', '--params', '{"token":'], '--params is not valid JSON: unexpected end, expected a value at position 9'],
    [['call', url, 'greet', '--timeout', 'soon'], '--timeout must be a whole number of milliseconds'],
    [['call', url, 'greet', '--timeout', '0'], '--timeout must be a whole number of milliseconds'],
    [['call', url, 'greet', '--timeout'], "Option '--timeout <value>' argument missing"],
    [['call', url, 'greet', '--nope'], "Unknown option '--nope'"],
    [['call', url, 'greet', '--last-event-id', '5'], "Unknown option '--last-event-id'"],
    [['subscribe', url, 'feed', '--timeout', '5'], "Unknown option '--timeout'"],
    [['subscribe', url, 'feed', '--mutation'], "Unknown option '--mutation'"],
    [['subscribe', url, 'feed', '--last-event-id', ''], '--last-event-id must be 1 to 1024 characters'],
    [['subscribe', url, 'feed', '--last-event-id', 'x'.repeat(1025)], '--last-event-id must be 1 to 1024 characters'],
]

describe('call and subscribe: usage errors', () => {
  it.each(cases.map(([argv, message]) => ({ argv, message, name: JSON.stringify(argv).slice(0, 90) })))('$name', async ({ argv, message }) => {
    const { status, stdout, stderr } = await run(argv)
    expect(status).toBe(1)
    expect(stdout).toBe('')
    expect(stderr.split('\n')[0]).toContain(`wirecall: ${message}`)
    expect(stderr).toContain('Exit status:') // the usage text follows
    expect(stderr).not.toContain('connecting')
  })

  it('the usage text lists both commands, their flags and the exit statuses', async () => {
    const { status, stdout } = await run(['--help'])
    expect(status).toBe(0)
    expect(stdout).toContain('wirecall call      <url> <path> [json] [--params json] [--timeout ms] [--mutation] [--json]')
    expect(stdout).toContain('wirecall subscribe <url> <path> [json] [--params json] [--last-event-id id] [--json]')
    expect(stdout).toMatch(/2 the server answered with an RpcError/)
    expect(stdout).toMatch(/3 connection failure/)
  })
})
