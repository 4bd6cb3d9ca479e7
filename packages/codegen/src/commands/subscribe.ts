import type { Command } from '../cli/io'
import { TerminalExit, reportFailure } from '../terminal/exit-status'
import { eventPrinter } from '../terminal/event-printer'
import { parseSubscribeArgs } from '../terminal/terminal-args'
import { openTerminalClient } from '../terminal/terminal-client'

/** Bounds each connection attempt of `subscribe`, as the client's default does. */
const CONNECT_TIMEOUT_MS = 10_000

/**
 * `wirecall subscribe <url> <path> [json] [--params json] [--last-event-id id] [--json]`:
 * each event on stdout as it arrives, with its id when the server tracks it.
 *
 * `--last-event-id` resumes after that event: the server replays what it
 * still holds, then goes live; when it cannot, a resync line goes to
 * stderr and the stream goes on. The stream survives reconnects (the
 * client resubscribes after the last id it saw). It ends with status 0 on
 * the server's `complete` or on Ctrl-C / SIGTERM, which unsubscribes first
 * (the server ends its generator); 2 when the server ends it with an
 * `RpcError`; 3 when the first connection fails or the server closes the
 * connection with a terminal code.
 */
export const subscribe: Command = async (args, io) => {
  const options = parseSubscribeArgs(args)
  const printer = eventPrinter(options.json, io)
  const client = openTerminalClient({
    url: options.url,
    params: options.params,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    instrumentation: [{ onEvent: ({ eventId }) => printer.nextEventId(eventId) }],
    io,
  })
  let finish: (status: number) => void = () => {}
  const finished = new Promise<number>((resolve) => {
    finish = (status) => {
      finish = () => {}
      resolve(status)
    }
  })
  const attempt = { url: options.url, path: options.path, method: 'subscription' } as const
  const subscription = client.procedure(options.segments).subscribe(options.input, {
    lastEventId: options.lastEventId,
    // On a resumed start the handle's lastEventId is where the server continued from.
    onStarted: ({ resumed }) => client.note(resumed ? `subscribed to ${options.path}, resumed after ${subscription.lastEventId}` : `subscribed to ${options.path}`),
    onData: (value) => printer.event(value),
    onResync: () => printer.resync(),
    onError: (error) => {
      // Ended because the connection is gone for good: the loss reports it (below).
      if (client.loss === undefined) finish(reportFailure(error, attempt, io))
    },
    onComplete: () => {
      client.note('complete')
      finish(TerminalExit.ok)
    },
  })
  const interrupt = () => {
    client.note('interrupted; unsubscribing')
    subscription.unsubscribe()
    finish(TerminalExit.ok)
  }
  if (io.signal.aborted) interrupt()
  else io.signal.addEventListener('abort', interrupt, { once: true })
  void client.lost.then((loss) => {
    io.stderr.write(`wirecall: ${loss.message}\n`)
    finish(TerminalExit.connection)
  })
  try {
    return await finished
  } finally {
    io.signal.removeEventListener('abort', interrupt)
    subscription.unsubscribe()
    await client.close()
  }
}
