/**
 * Entry of a subscriber process of the scale-out case:
 * `subscriber-process.ts <count> <first> <localAddress>`, forked by run.ts
 * with IPC. Holds `count` wirecall subscribers of `feed` (numbered from
 * `first` across processes), subscriber i on node i mod nodes, all from
 * `localAddress`; the process holding subscriber 0 also publishes through
 * it, so every publish enters on node 0. Each node's share is one
 * SubscriberGroup of the fan-out scale case (a SeqChecker per subscriber:
 * every event, in order, nothing more; stamped latencies).
 */
import { Mismatch } from '../cases/verify'
import type { PublishInput } from '../contract'
import { loadImpl } from '../impls/index'
import { exitWithParent } from '../ipc'
import { fail, tell } from '../scale/child-ipc'
import { SubscriberGroup } from '../scale/fanout/subscribers'
import type { FromNodeSubscribers, ToNodeSubscribers } from './messages'

const send: (message: FromNodeSubscribers) => Promise<void> = tell

/** This process's subscribers: a group per node, the publisher's group first when this process holds subscriber 0. */
interface Groups {
  groups: SubscriberGroup[]
  /** The group whose first connection is subscriber 0, in the first process only. */
  publisher: SubscriberGroup | undefined
}

async function connect(ports: readonly number[], count: number, first: number, localAddress: string): Promise<Groups> {
  const impl = await loadImpl('wirecall')
  const groups: SubscriberGroup[] = []
  let publisher: SubscriberGroup | undefined
  try {
    for (const [node, port] of ports.entries()) {
      // Subscribers first..first+count-1 whose number is node mod nodes: the first of them, and how many.
      const start = first + ((node - (first % ports.length) + ports.length) % ports.length)
      const share = start >= first + count ? 0 : Math.ceil((first + count - start) / ports.length)
      if (share === 0) continue
      const group = await SubscriberGroup.open(impl, port, share, start, localAddress)
      groups.push(group)
      if (start === 0) publisher = group
    }
  } catch (error) {
    await Promise.allSettled(groups.map((group) => group.close()))
    throw error
  }
  return { groups, publisher }
}

/** `publish(input)` through subscriber 0, checking its answer; resolves with when it was called. */
async function publish(groups: Groups, input: PublishInput): Promise<bigint> {
  if (groups.publisher === undefined) throw new Error('told to publish by a process without subscriber 0')
  const startNs = process.hrtime.bigint()
  const answer = await groups.publisher.publisher.publish(input)
  const published = typeof answer === 'object' && answer !== null ? (answer as { published?: unknown }).published : undefined
  if (published !== input.count) throw new Mismatch(`publish(${input.count}) answered ${JSON.stringify(answer)}, not { published: ${input.count} }`)
  return startNs
}

async function main(): Promise<void> {
  exitWithParent()
  const [countText, firstText, localAddress] = process.argv.slice(2)
  const count = Number(countText)
  const first = Number(firstText)
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(first) || localAddress === undefined) throw new Error(`bad arguments: ${process.argv.slice(2).join(' ')}`)

  let groups: Groups | undefined
  const ready = () => {
    if (groups === undefined) throw new Error('told to go on before connect')
    return groups
  }
  // Handled as they come: a publish and the deliveries it makes are awaited side by side.
  process.on('message', (message: ToNodeSubscribers) => {
    void (async () => {
      switch (message.type) {
        case 'connect':
          groups = await connect(message.ports, count, first, localAddress)
          globalThis.gc?.()
          return send({ type: 'connected' })
        case 'expect': {
          const delivered = Promise.all(ready().groups.map((group) => group.expect(message.count, message.stamped)))
          await send({ type: 'expecting' })
          const each = await delivered
          const lastNs = each.map((one) => one.lastNs).reduce((a, b) => (a > b ? a : b))
          const latenciesNs = each.flatMap((one) => Array.from(one.latenciesNs, Math.round))
          return send({ type: 'delivered', lastNs: String(lastNs), latenciesNs })
        }
        case 'publish':
          return send({ type: 'published', startNs: String(await publish(ready(), message.input)) })
        case 'close':
          await Promise.all(ready().groups.map((group) => group.close()))
          await send({ type: 'closed' })
          return process.exit(0)
      }
    })().catch(fail)
  })
  await send({ type: 'listening' })
}

process.on('uncaughtException', fail)
process.on('unhandledRejection', fail)
main().catch(fail)
