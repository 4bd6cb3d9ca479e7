import { CloseCode, frameShapeProblem, parseClientFrame, utf8Length, type ClientMessage } from '@wirecall/core'
import { carriedOutWhenRefused } from './rate-limit'
import type { Session } from './session'

/**
 * One frame's way in, up to the messages the session carries out: its
 * shape is checked before parsing (see `frameShapeProblem`: a frame too
 * deep, or with too many arrays and objects, to parse cheaply closes with
 * 1009, as a frame too large does), then its envelope, then each message
 * passes the rate limit in order.
 *
 * Before `ack`, a frame larger than `maxConnectionParamsBytes` may hold
 * only pings; anything else in it is taken for an oversized `init` and
 * closed with 4413 (a misshapen one without being parsed: pings are
 * shallow).
 */
export function readFrame(session: Session, data: string): void {
  const { config } = session
  const max = config.maxConnectionParamsBytes
  const oversized = !session.isReady && data.length > max / 3 && utf8Length(data) > max
  const shapeProblem = frameShapeProblem(data, config.frameShape)
  if (shapeProblem !== undefined) {
    if (oversized) return closeOversizedInit(session)
    return session.close(CloseCode.MessageTooBig, `frame ${shapeProblem}`)
  }
  const parsed = parseClientFrame(data, { maxBatchSize: config.maxBatchSize })
  if (!parsed.ok) return session.close(CloseCode.ProtocolError, parsed.reason)
  if (oversized && !parsed.messages.every(isPingOrPong)) return closeOversizedInit(session)
  for (const message of parsed.messages) {
    if (session.isClosed) break
    if (session.limiter !== undefined && !admit(session, message)) continue
    session.handle(message)
  }
}

/**
 * The rate limit. A message over it is refused (see
 * {@link carriedOutWhenRefused}): one with an id is answered
 * `TOO_MANY_REQUESTS`, a ping goes unanswered. A flood is closed with 1008.
 */
function admit(session: Session, message: ClientMessage): boolean {
  const verdict = session.limiter!.take()
  if (verdict === 'accept') return true
  if (verdict === 'flood') {
    session.close(CloseCode.PolicyViolation, 'message rate limit exceeded')
    return false
  }
  if (carriedOutWhenRefused(message)) return true
  if ('id' in message && session.isReady) session.refuseOverRate(message)
  return false
}

function closeOversizedInit(session: Session): void {
  session.close(CloseCode.ParamsTooLarge, `connectionParams larger than ${session.config.maxConnectionParamsBytes} bytes`)
}

function isPingOrPong(message: ClientMessage): boolean {
  return message.type === 'ping' || message.type === 'pong'
}
