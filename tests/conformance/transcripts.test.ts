import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { startServer } from '../helpers/harness'
import { checkTranscript, match, play, substitute, type Json, type Transcript } from './play'
import { conformanceServerOptions } from './router'

/**
 * The conformance transcripts of docs/protocol/conformance/, each played
 * against the reference server (the conformance router of ./router.ts)
 * over real sockets on 127.0.0.1: the frames a client sends, and the
 * messages and close codes it must get. A client or server in another
 * language plays the same files; README.md there is the format.
 */

const dir = fileURLToPath(new URL('../../docs/protocol/conformance/', import.meta.url))
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()

function load(file: string): Transcript {
  return checkTranscript(JSON.parse(readFileSync(join(dir, file), 'utf8')), file)
}

/** Starts a conformance server for `transcript` (closed after the test) and plays it. */
async function playOnServer(transcript: Transcript): Promise<void> {
  const { server, url } = await startServer(conformanceServerOptions(transcript.server))
  await play(transcript, { url, close: (options) => server.close(options) })
}

describe('conformance transcripts (docs/protocol/conformance)', () => {
  it('there are transcripts, each named after its file', () => {
    expect(files.length).toBeGreaterThan(10)
    for (const file of files) expect(load(file).name, file).toBe(file.replace(/\.json$/, ''))
  })

  it('the README lists every transcript', () => {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8')
    for (const file of files) expect(readme, file).toContain(`[${file}](./${file})`)
  })

  for (const file of files) {
    it(`${file.replace(/\.json$/, '')}`, async () => {
      await playOnServer(load(file))
    })
  }
})

describe('the player fails what does not conform', () => {
  const base = (steps: Transcript['steps']): Transcript => ({ name: 'self-test', description: '', server: {}, steps })
  const handshake: Transcript['steps'] = [
    { op: 'connect' },
    { op: 'send', frame: { type: 'init' } },
    { op: 'expect', message: { type: 'ack', maxPayload: '$integer', limits: '$object', features: '$any' } },
  ]

  it('a message that does not match', async () => {
    const t = base([...handshake, { op: 'send', frame: { type: 'call', id: 1, method: 'query', path: 'echo', input: 1 } }, { op: 'expect', message: { type: 'result', id: 1, data: 2 } }])
    await expect(playOnServer(t)).rejects.toThrow(/step 5 "expect".*\n  got \{"type":"result","id":1,"data":1\}/)
  })

  it('a message that no step expected, found at the end', async () => {
    const t = base([...handshake, { op: 'send', frame: { type: 'ping' } }, { op: 'wait', ms: 50 }])
    await expect(playOnServer(t)).rejects.toThrow(/messages no step expected: \{"type":"pong"\}/)
  })

  it('a key the pattern does not have, and one it has that the message lacks', async () => {
    await expect(playOnServer(base([{ op: 'connect' }, { op: 'send', frame: { type: 'init' } }, { op: 'expect', message: { type: 'ack' } }]))).rejects.toThrow(/got \{"type":"ack","maxPayload":1048576,"limits":\{/)
    await expect(playOnServer(base([...handshake, { op: 'send', frame: { type: 'ping' } }, { op: 'expect', message: { type: 'pong', x: '$any' } }]))).rejects.toThrow(/expected/)
  })

  it('a batch expected where plain frames came, and a close code that differs', async () => {
    const t = base([...handshake, { op: 'send', frame: { type: 'ping' } }, { op: 'expect', messages: [{ type: 'pong' }], frame: 'batch' }])
    await expect(playOnServer(t)).rejects.toThrow(/as one batch frame/)
    const c = base([{ op: 'connect' }, { op: 'send', text: 'nope' }, { op: 'expectClose', code: 1000 }])
    await expect(playOnServer(c)).rejects.toThrow(/expected a close with 1000, got 4400/)
  })

  it('a wait that runs out', async () => {
    const t = base([...handshake, { op: 'expect', message: { type: 'pong' }, timeoutMs: 100 }])
    await expect(playOnServer(t)).rejects.toThrow(/nothing more arrived within 100 ms/)
  })

  it('patterns: placeholders, captures, escapes; sends: $use, $repeat', () => {
    const none = new Map<string, Json>()
    expect(match('$integer', 1.5, none)).toBeUndefined()
    expect(match('$number', true, none)).toBeUndefined()
    expect(match('$$any', '$any', none)).toBe(none)
    expect(match('$$any', 'x', none)).toBeUndefined()
    const b = match({ id: '$capture:e:eventId' }, { id: 'x.1' }, none)!
    expect(b.get('e')).toBe('x.1')
    expect(match('$use:e', 'x.1', b)).toBe(b)
    expect(match('$use:e', 'x.2', b)).toBeUndefined()
    expect(() => match('$capture:e', 'y', b)).toThrow(/already captured/)
    expect(() => match('$nope', 1, none)).toThrow(/unknown placeholder/)
    expect(substitute({ a: '$use:e', b: '$repeat:3:ab', c: '$$x' }, b)).toEqual({ a: 'x.1', b: 'ababab', c: '$x' })
  })
})
