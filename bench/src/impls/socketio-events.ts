/**
 * The socket.io events of the benchmark, typed both ways as socket.io's docs
 * recommend, so server and client agree on names and payloads.
 */
import type { EchoInput, EchoTextInput, PublishInput, PushEvent } from '../contract'

/** What the client emits. */
export interface ClientToServerEvents {
  /** Answered through the ack with the input as is. */
  echo: (input: EchoInput, ack: (output: EchoInput) => void) => void
  /** Answered through the ack with the input as is. */
  echoText: (input: EchoTextInput, ack: (output: EchoTextInput) => void) => void
  /** Starts stream `id`: `count` 'stream-event's, then 'stream-done'. */
  stream: (request: { id: number; count: number }) => void
  /** Joins the 'feed' room; the ack says the socket is in it. */
  join: (ack: () => void) => void
  /** Leaves the 'feed' room. */
  leave: () => void
  /** Publishes to the 'feed' room; the ack comes once every event is emitted. */
  publish: (input: PublishInput, ack: (result: { published: number }) => void) => void
}

/** What the server emits. */
export interface ServerToClientEvents {
  'stream-event': (id: number, event: PushEvent) => void
  'stream-done': (id: number) => void
  'feed-event': (event: PushEvent) => void
}

/** The room every `feed` subscriber joins. */
export const FEED_ROOM = 'feed'
