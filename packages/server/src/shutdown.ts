import { CloseCode, MAX_RESTART_DELAY_MS } from '@wirecall/core'
import { serverDefaults, type CloseOptions } from './options'
import type { SessionRegistry } from './registry'
import type { Session } from './session/session'

/** Closes every session at once with 1001: clients retry with backoff. */
export async function closeAll(registry: SessionRegistry): Promise<void> {
  await Promise.all(registry.list().map((session) => closeGracefully(registry, session, CloseCode.GoingAway, 'server closed')))
}

/**
 * Restart mode of `close()`: tells each client when to come back, then
 * closes each session with 1012 once its own calls are done (or the grace
 * period ran out). The delays are stratified over the window, each client
 * one slot with a random place inside it, so reconnects are spread evenly
 * without any coordination.
 */
export async function restart(registry: SessionRegistry, options: CloseOptions): Promise<void> {
  const sessions = registry.list()
  const graceMs = Math.max(0, options.graceMs ?? serverDefaults.graceMs)
  // Clients refuse a delay over MAX_RESTART_DELAY_MS as a protocol error, so a longer window is cut to it.
  const windowMs = Math.min(MAX_RESTART_DELAY_MS, Math.max(0, options.reconnectWindowMs ?? serverDefaults.reconnectWindowMs))
  const slot = windowMs / Math.max(1, sessions.length)
  sessions.forEach((session, i) => session.announceRestart((i + Math.random()) * slot))
  await Promise.all(
    sessions.map(async (session) => {
      await withDeadline(session.callsDone(), graceMs)
      await closeGracefully(registry, session, CloseCode.ServiceRestart, 'server restarting')
    }),
  )
}

/**
 * Closes one session and waits, at most `closeTimeoutMs`, for the closing
 * handshake and for the session's resolvers and generators to finish. A
 * peer that does not answer the close is cut off by the session itself,
 * after the same `closeTimeoutMs`.
 */
function closeGracefully(registry: SessionRegistry, session: Session, code: number, reason: string): Promise<void> {
  const gone = registry.gone(session)
  // `end`, not `close`: the server's own shutdown is no error for `onError`.
  session.end(code, reason)
  return withDeadline(Promise.all([gone, session.settled()]), serverDefaults.closeTimeoutMs)
}

/** Waits for `work`, or `ms` at most. Never rejects. */
export function withDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    const done = () => {
      clearTimeout(timer)
      resolve()
    }
    work.then(done, done)
  })
}
