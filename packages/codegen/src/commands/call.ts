import type { Command } from '../cli/io'
import { TerminalExit, reportFailure } from '../terminal/exit-status'
import { jsonRenderer, prettyRenderer } from '../terminal/render-value'
import { parseCallArgs } from '../terminal/terminal-args'
import { openTerminalClient } from '../terminal/terminal-client'

/** How long the client's own call timeout outlasts `--timeout`, so the CLI's deadline (which knows it is one) fires first. */
const CLIENT_TIMEOUT_SLACK_MS = 1_000

/**
 * `wirecall call <url> <path> [json] [--params json] [--timeout ms] [--mutation] [--json]`:
 * one query (or, with `--mutation`, one mutation), its answer on stdout.
 *
 * The kind is the caller's to say: the CLI sends a query unless told
 * otherwise, and when the server answers `METHOD_NOT_SUPPORTED` it names
 * the flag or command to use instead. It does not re-send with the other
 * method by itself, although the server refuses a wrong method before
 * anything runs (`lookupProcedure` comes before middleware, input parsing
 * and the resolver in server/src/session/calls.ts): re-sending a query as a
 * mutation would run a side effect nobody asked for, and a resolver may
 * throw `METHOD_NOT_SUPPORTED` itself, so the code alone does not prove
 * that nothing ran.
 *
 * `--timeout` bounds everything, connecting included; past it the call is
 * cancelled on the server and the status is 3. Ctrl-C cancels it too (130).
 */
export const call: Command = async (args, io) => {
  const options = parseCallArgs(args)
  const render = options.json ? jsonRenderer : prettyRenderer(io.stdout, io.env)
  const client = openTerminalClient({ url: options.url, params: options.params, connectTimeoutMs: options.timeoutMs, io })
  const stop = new AbortController()
  let stopped: 'timeout' | 'interrupted' | undefined
  const deadline = setTimeout(() => {
    stopped = 'timeout'
    stop.abort()
  }, options.timeoutMs)
  const interrupt = () => {
    stopped ??= 'interrupted'
    stop.abort()
  }
  if (io.signal.aborted) interrupt()
  else io.signal.addEventListener('abort', interrupt, { once: true })
  try {
    const procedure = client.procedure(options.segments)
    const callOptions = { signal: stop.signal, timeoutMs: options.timeoutMs + CLIENT_TIMEOUT_SLACK_MS }
    const answer = settle(options.mutation ? procedure.mutate(options.input, callOptions) : procedure.query(options.input, callOptions))
    const outcome = await Promise.race([answer, client.lost.then((loss) => ({ lost: loss.message }))])
    if ('lost' in outcome) {
      io.stderr.write(`wirecall: ${outcome.lost}\n`)
      return TerminalExit.connection
    }
    if (outcome.ok) {
      io.stdout.write(`${render.render(outcome.value)}\n`)
      return TerminalExit.ok
    }
    // The call failed because the connection is gone for good (4401, say): the loss says why, and how.
    if (client.loss !== undefined) {
      io.stderr.write(`wirecall: ${client.loss.message}\n`)
      return TerminalExit.connection
    }
    if (stopped === 'interrupted') {
      io.stderr.write('wirecall: interrupted; the call was cancelled\n')
      return TerminalExit.interrupted
    }
    if (stopped === 'timeout') {
      const state = client.connection.state
      io.stderr.write(`wirecall: no answer within ${options.timeoutMs} ms${state === 'open' ? '' : ` (the connection is ${state})`}; the call was cancelled\n`)
      return TerminalExit.connection
    }
    return reportFailure(outcome.error, { url: options.url, path: options.path, method: options.mutation ? 'mutation' : 'query' }, io)
  } finally {
    clearTimeout(deadline)
    io.signal.removeEventListener('abort', interrupt)
    await client.close()
  }
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown }

/** The promise's outcome as a value, so a race against the connection's loss leaves no rejection unhandled. */
function settle(promise: Promise<unknown>): Promise<Settled> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  )
}
