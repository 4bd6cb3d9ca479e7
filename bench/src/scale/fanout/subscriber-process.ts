/**
 * Entry of a subscriber process of the fan-out scale case:
 * `subscriber-process.ts <impl> <count> <first> <localAddress>`, forked by
 * run.ts with IPC. Holds `count` subscribers of `feed` (numbered from
 * `first`), all connected from `localAddress`; the process holding
 * subscriber 0 also publishes through it. Does what the orchestrator says
 * (messages.ts) and reports any failure, or any uncaught exception (a
 * library failing a subscription after it started), as `failed`.
 */
import { hrtime } from 'node:process'
import { Mismatch } from '../../cases/verify'
import { IMPLS, type ImplName, type PublishInput } from '../../contract'
import { loadImpl } from '../../impls/index'
import { exitWithParent } from '../../ipc'
import { fail, tell } from '../child-ipc'
import type { FromSubscribers, ToSubscribers } from './messages'
import { SubscriberGroup } from './subscribers'

const send: (message: FromSubscribers) => Promise<void> = tell

/** `publish(input)` through `group`'s publisher, checking its answer; resolves with when it was called. */
async function publish(group: SubscriberGroup, input: PublishInput): Promise<bigint> {
  const startNs = hrtime.bigint()
  const answer = await group.publisher.publish(input)
  const published = typeof answer === 'object' && answer !== null ? (answer as { published?: unknown }).published : undefined
  if (published !== input.count) throw new Mismatch(`publish(${input.count}) answered ${JSON.stringify(answer)}, not { published: ${input.count} }`)
  return startNs
}

async function main(): Promise<void> {
  exitWithParent()
  const [implName, countText, firstText, localAddress] = process.argv.slice(2)
  if (!IMPLS.includes(implName as ImplName)) throw new Error(`unknown implementation ${String(implName)}`)
  const count = Number(countText)
  const first = Number(firstText)
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(first) || localAddress === undefined) throw new Error(`bad arguments: ${process.argv.slice(2).join(' ')}`)

  // Loaded while the server starts; awaited at connect.
  const impl = loadImpl(implName as ImplName)
  let group: SubscriberGroup | undefined
  // Messages are handled as they come, not one at a time as child-ipc's runChild does:
  // a publish and the deliveries it makes are awaited side by side.
  process.on('message', (message: ToSubscribers) => {
    void (async () => {
      switch (message.type) {
        case 'connect':
          group = await SubscriberGroup.open(await impl, message.port, count, first, localAddress)
          // Connection garbage is collected now, not during a measured publish.
          globalThis.gc?.()
          return send({ type: 'connected' })
        case 'expect': {
          const delivered = ready(group).expect(message.count, message.stamped)
          await send({ type: 'expecting' })
          const { lastNs, latenciesNs } = await delivered
          return send({ type: 'delivered', lastNs: String(lastNs), latenciesNs: Array.from(latenciesNs, Math.round) })
        }
        case 'publish':
          return send({ type: 'published', startNs: String(await publish(ready(group), message.input)) })
        case 'close':
          await ready(group).close()
          await send({ type: 'closed' })
          // Libraries may hold timers.
          return process.exit(0)
      }
    })().catch(fail)
  })
  // Messages sent before the listener existed would be lost: the orchestrator waits for this.
  await send({ type: 'listening' })
}

function ready(group: SubscriberGroup | undefined): SubscriberGroup {
  if (group === undefined) throw new Error('told to go on before connect')
  return group
}

process.on('uncaughtException', fail)
process.on('unhandledRejection', fail)
main().catch(fail)
