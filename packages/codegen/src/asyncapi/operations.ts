import type { ProcedureSchemas } from '../schema/schema-types'

/*
 * The operations of the document, seen from the server (the application an
 * AsyncAPI document describes): `receive` for what clients send it, with an
 * AsyncAPI 3 `reply` naming what it answers on the same connection; `send`
 * for what it sends unasked.
 */

/** The one channel every message travels on. */
export const CHANNEL = 'wirecall'

const channelRef = { $ref: `#/channels/${CHANNEL}` }
const ref = (key: string) => ({ $ref: `#/channels/${CHANNEL}/messages/${key}` })

/** An AsyncAPI operation object. */
export type OperationObject = Record<string, unknown>

function operation(action: 'send' | 'receive', title: string, summary: string, messages: readonly string[], reply?: readonly string[]): OperationObject {
  return {
    action,
    channel: channelRef,
    title,
    summary,
    messages: messages.map(ref),
    ...(reply !== undefined ? { reply: { channel: channelRef, messages: reply.map(ref) } } : {}),
  }
}

/** The operations every connection has. */
export function connectionOperations(): Record<string, OperationObject> {
  return {
    init: operation('receive', 'Open the session', 'The first message on a connection; answered by ack, or by a close code.', ['init'], ['ack']),
    reinit: operation('receive', 'Refresh the connection parameters', 'Answered by a result without data, or an error; the connection stays open either way.', ['reinit'], ['reinitResult', 'error']),
    cancel: operation('receive', 'Cancel a call', 'Fire and forget: nothing more is sent for the id.', ['cancel']),
    receivePing: operation('receive', 'Ping the server', 'Answered by pong.', ['ping'], ['pong']),
    receivePong: operation('receive', 'Pong from the client', 'The answer to a ping the server sent; ignored when unexpected.', ['pong']),
    sendPing: operation('send', 'Ping the client', 'The reference server pings with WebSocket ping frames instead; the protocol lets either side send ping.', ['ping'], ['pong']),
    restart: operation('send', 'Announce a restart', 'Sent at most once per connection, after ack; the server then closes with 1012.', ['restart']),
    callClient: operation(
      'send',
      'Call a client procedure',
      'Only a path the client advertised in init.handlers (or reinit.handlers); answered by result or error, or given up with cancel after timeoutMs.',
      ['peerCall'],
      ['peerResult', 'peerError'],
    ),
    cancelClientCall: operation('send', 'Cancel a call to the client', 'Fire and forget: the client sends nothing for the id.', ['peerCancel']),
    receiveChunk: operation('receive', 'A chunk of a client stream', 'Within the credit granted for its call or subscription; answered by more credit as the resolver consumes.', ['chunk'], ['credit']),
    receiveEnd: operation('receive', 'The end of a client stream', 'No more chunks for this id.', ['end']),
    receiveBatch: operation('receive', 'A batch from the client', 'Several client messages in one frame.', ['clientBatch']),
    sendBatch: operation('send', 'A batch to the client', 'Several server messages in one frame: the reference server batches what it writes in one turn of its event loop.', ['serverBatch']),
  }
}

/** The operations of one procedure (`base`: the component-key form of its path), keyed like its messages. */
export function procedureOperations(procedure: ProcedureSchemas, base: string): Record<string, OperationObject> {
  const { path, kind } = procedure
  if (kind === 'subscription') {
    const events = [`started.${base}`, `data.${base}`, ...(procedure.resync !== false ? [`resync.${base}`] : []), `complete.${base}`, 'error']
    return {
      [`subscribe.${base}`]: operation(
        'receive',
        `Subscribe to ${path}`,
        'Answered by started then any number of data (and resync), ending with complete or error; or by error at once.',
        [`subscribe.${base}`],
        events,
      ),
      [`unsubscribe.${base}`]: operation('receive', `Unsubscribe from ${path}`, 'Fire and forget: nothing more is sent for the id.', [`unsubscribe.${base}`]),
    }
  }
  return {
    [`call.${base}`]: operation('receive', `${kind === 'query' ? 'Query' : 'Mutation'} ${path}`, 'Answered by exactly one result or error, unless cancelled first.', [`call.${base}`], [
      `result.${base}`,
      'error',
    ]),
  }
}
