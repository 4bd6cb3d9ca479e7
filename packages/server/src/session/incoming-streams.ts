import { CloseCode, RpcError, type ChunkMessage, type StreamSchema } from '@wirecall/core'
import type { SessionConfig } from './config'
import { IncomingStream, type StreamLimits, type StreamOwner } from './incoming-stream'
import { decodeInput } from './payload'
import type { Session } from './session'

/**
 * The client streams coming in on one session (the inputs of calls and
 * subscriptions sent with `stream: true`), by the id of their call. A
 * chunk or `end` for an id that is not here is ignored: it races with the
 * answer that ended its stream. A chunk beyond the credit granted closes
 * the connection with 4400: the official client never sends one.
 */
export class IncomingStreams {
  private readonly streams = new Map<number, IncomingStream>()

  constructor(private readonly session: Session) {}

  get size(): number {
    return this.streams.size
  }

  /**
   * Opens the stream that is the input of call or subscription `id` and
   * grants its first credit. `owner` says how it ends its call; the stream
   * leaves this table when it ends.
   */
  open(id: number, schema: StreamSchema, owner: Pick<StreamOwner, 'fail'>): IncomingStream {
    const { session } = this
    const stream = new IncomingStream(id, schema.chunk, streamLimits(session.config, schema), {
      send: (frame) => session.write(frame),
      decode: (data, meta) => decodeInput(session.config, data, meta),
      fail: (error) => owner.fail(error),
      released: (done) => {
        if (this.streams.get(done.id) === done) this.streams.delete(done.id)
      },
    })
    this.streams.set(id, stream)
    return stream
  }

  /** One chunk of stream `message.id`. */
  chunk(message: ChunkMessage): void {
    if (this.streams.get(message.id)?.push(message) === false) {
      this.session.close(CloseCode.ProtocolError, `chunk beyond the credit granted for stream ${message.id}`)
    }
  }

  /** The call of stream `id` answered: the resolver is done with it, and chunks still on their way are ignored. */
  answered(id: number): void {
    this.streams.get(id)?.abort(new RpcError('CANCELLED', 'The call has answered'))
  }

  /** Stream `id` has no more chunks. */
  end(id: number): void {
    this.streams.get(id)?.end()
  }
}

/**
 * Why a call or subscribe cannot run as sent, if it cannot: `stream: true`
 * to a procedure whose input is not a stream, a stream input sent as a
 * plain input, or a stream with an idempotency key (a stream cannot be
 * replayed).
 */
export function streamMismatch(path: string, schema: StreamSchema | undefined, streamed: boolean, idempotencyKey: string | undefined): RpcError | undefined {
  if (streamed && schema === undefined) return new RpcError('BAD_REQUEST', `"${path}" does not take a stream input`)
  if (!streamed && schema !== undefined) return new RpcError('BAD_REQUEST', `"${path}" takes a stream: send it as chunks`)
  if (streamed && idempotencyKey !== undefined) return new RpcError('BAD_REQUEST', 'A stream input cannot be replayed: send it without an idempotencyKey')
  return undefined
}

function streamLimits(config: SessionConfig, schema: StreamSchema): StreamLimits {
  const own = schema.options
  const defaults = config.streams
  return {
    window: own.window ?? defaults.window,
    maxChunks: own.maxChunks ?? defaults.maxChunks,
    maxBytes: own.maxBytes ?? defaults.maxBytes,
    maxDurationMs: own.maxDurationMs ?? defaults.maxDurationMs,
  }
}
