import type { CliIo } from '../cli/io'
import { prettyRenderer, useColor, wireJson } from './render-value'

/** Writes a subscription's events on stdout and its resyncs on stderr. */
export interface EventPrinter {
  /** The id of the event delivered next (`undefined`: untracked), from the client's `onEvent` hook, which runs just before `onData`. */
  nextEventId(eventId: string | undefined): void
  /** One event. */
  event(value: unknown): void
  /** The server could not resume, or the stream fell too far behind: events were missed. */
  resync(): void
}

/** The resync line: on stderr, set apart from events, in both modes. */
export const RESYNC_LINE = '── resync: events were missed; reload state ──'

/**
 * Pretty: `[id] value` per event (`util.inspect`, rich values revived), the
 * id dimmed on a terminal; untracked events without the brackets.
 * `--json`: one line per event, `{"id":"…","data":…}` (no `id` when the
 * event is untracked, `data` in its wire form, see `jsonRenderer`), and a
 * resync also as `{"resync":true}` on stdout, so a consumer of the stream
 * knows to reload without reading stderr.
 */
export function eventPrinter(json: boolean, io: CliIo): EventPrinter {
  let eventId: string | undefined
  const pretty = prettyRenderer(io.stdout, io.env)
  const dim = useColor(io.stdout, io.env) ? (text: string) => `\u001b[2m${text}\u001b[22m` : (text: string) => text
  return {
    nextEventId(id) {
      eventId = id
    },
    event(value) {
      const id = eventId
      eventId = undefined
      if (json) io.stdout.write(`${JSON.stringify(id === undefined ? { data: wireJson(value) } : { id, data: wireJson(value) })}\n`)
      else io.stdout.write(`${id === undefined ? '' : `${dim(`[${id}]`)} `}${pretty.render(value)}\n`)
    },
    resync() {
      io.stderr.write(`${RESYNC_LINE}\n`)
      if (json) io.stdout.write('{"resync":true}\n')
    },
  }
}
