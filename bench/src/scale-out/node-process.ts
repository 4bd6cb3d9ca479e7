/**
 * Entry of one wirecall server process ("node") of the scale-out case:
 * `node-process.ts <memory|redis> <redis url or -> <history>`, forked by
 * run.ts with IPC. Serves the bench's `feed` and `publish` procedures, as
 * impls/wirecall.ts does (so the wirecall bench client connects to it
 * unchanged), on a channel that is either in this process
 * (`createChannel({ history })`) or in Redis
 * (`createChannel({ backend: redisChannelBackend({ client }), name, history })`),
 * in which case every node's subscribers get every node's publishes. Speaks
 * the server messages of ipc.ts (`ready`, `cpu`, `close`).
 */
import { createRpcServer, createChannel, initRpc } from '@wirecall/server'
import type { RedisChannelBackend } from '@wirecall/redis'
import type { RedisClientType } from 'redis'
import type { z } from 'zod'
import type { PushEvent } from '../contract'
import { burstPacer, publishedEvent } from '../impls/publish-events'
import { nextMacrotask, publishInputSchema } from '../impls/schemas'
import { describeError, exitWithParent, sendToParent, type ToServer } from '../ipc'
import { CHANNEL_NAME, MAX_PUBLISHES_IN_FLIGHT, type NodeBackend } from './plan'

/** The feed: what both backends have in common, publish (an id or its promise) and subscribe. */
interface Feed {
  publish(event: PushEvent): unknown
  subscribe(options: { signal?: AbortSignal }): AsyncIterable<unknown>
}

/**
 * Publishes `input.count` events in bursts. Unpaced, each burst is awaited
 * (the Redis channel resolves once Redis stored it) before the next
 * macrotask: a publisher going as fast as the node accepts, with at most a
 * burst in flight. Paced, one burst per tick of the schedule, and the
 * promises are awaited only when {@link MAX_PUBLISHES_IN_FLIGHT} pile up:
 * the pace, not the round trip, sets when an event leaves.
 */
async function publishAll(feed: Feed, input: z.infer<typeof publishInputSchema>): Promise<void> {
  const paced = burstPacer(input)
  let pending: unknown[] = []
  for (let seq = 0; seq < input.count; ) {
    const end = Math.min(input.count, seq + input.burst)
    for (; seq < end; seq++) pending.push(feed.publish(publishedEvent(seq, input)))
    if (paced === undefined || pending.length >= MAX_PUBLISHES_IN_FLIGHT) {
      await Promise.all(pending)
      pending = []
    }
    if (seq < input.count) await (paced?.(seq) ?? nextMacrotask())
  }
  await Promise.all(pending)
}

function createRouter(feed: Feed) {
  const rpc = initRpc.create()
  return rpc.router({
    feed: rpc.procedure.subscription(({ signal }) => feed.subscribe({ signal })),
    publish: rpc.procedure.input(publishInputSchema).mutation(async ({ input }) => {
      await publishAll(feed, input)
      return { published: input.count }
    }),
  })
}

async function main(): Promise<void> {
  exitWithParent()
  const [backendName, url, historyText] = process.argv.slice(2)
  const backend = backendName as NodeBackend
  const history = Number(historyText)
  if ((backend !== 'memory' && backend !== 'redis') || url === undefined || !Number.isInteger(history)) {
    throw new Error(`bad arguments: ${process.argv.slice(2).join(' ')}`)
  }
  let redis: Pick<RedisClientType, 'close'> | undefined
  let channelBackend: RedisChannelBackend | undefined
  let feed: Feed
  if (backend === 'redis') {
    // Loaded only here: an in-memory node carries no Redis module.
    const [{ createClient }, { redisChannelBackend }] = await Promise.all([import('redis'), import('@wirecall/redis')])
    const client = await createClient({ url }).connect()
    client.on('error', (error: unknown) => fail(error))
    redis = client
    channelBackend = redisChannelBackend({ client, onError: fail })
    feed = createChannel<PushEvent>({ backend: channelBackend, name: CHANNEL_NAME, history })
  } else {
    feed = createChannel<PushEvent>({ history })
  }

  const server = createRpcServer({ router: createRouter(feed) })
  const { port } = await server.listen({ port: 0, host: '127.0.0.1', path: '/rpc' })

  process.on('message', (message: ToServer) => {
    void (async () => {
      switch (message.type) {
        case 'cpu':
          return sendToParent({ type: 'cpu', usage: process.cpuUsage() })
        case 'close':
          await server.close()
          await channelBackend?.close()
          await redis?.close()
          return process.exit(0)
        case 'memory':
        case 'status':
          throw new Error(`a scale-out node does not answer '${message.type}'`)
      }
    })().catch(fail)
  })
  await sendToParent({ type: 'ready', port })
}

function fail(error: unknown): void {
  void sendToParent({ type: 'failed', error: `node: ${describeError(error)}` })
    .catch(() => {})
    .finally(() => process.exit(1))
}

process.on('uncaughtException', fail)
process.on('unhandledRejection', fail)
main().catch(fail)
