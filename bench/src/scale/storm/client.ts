/**
 * Entry of a client process of the storm case: `client.ts <impl>
 * <sourceAddress>`. Runs its share of the subscribers, checks every event
 * each one gets (SeqChecker), and tells the orchestrator when all of them
 * are subscribed again after the server restarted.
 */
import { SeqChecker } from '../../cases/verify'
import { fail, runChild, tell } from '../child-ipc'
import { CONNECT_CONCURRENCY } from '../fleet'
import type { FromStormClient, StormTally, ToStormClient } from './messages'
import { loadSubscriber, STORM_IMPLS, type OpenSubscriber, type StormImpl, type StormSubscriber } from './subscriber'

const [implName, localAddress = '127.0.0.1'] = process.argv.slice(2)
const reply = (message: FromStormClient) => tell(message)

/** One subscriber and what it has been through. */
interface Entry {
  subscriber: StormSubscriber
  checker: SeqChecker
  /** Acknowledged subscriptions so far (the first included). */
  starts: number
}

let open: OpenSubscriber
const entries: Entry[] = []

/** Set by `arm`: the starts each subscriber had then, who has not come back since, and what happened meanwhile. */
let restart: { startsBefore: number[]; pending: Set<number>; firstAt: number; lastAt: number; tally: StormTally } | undefined

/** Resolved when every checker has its expected count; re-made by `expect`. */
let allReceived: { left: number; resolve(): void; promise: Promise<void> } | undefined

function started(index: number): void {
  const entry = entries[index]!
  entry.starts++
  if (restart === undefined || !restart.pending.delete(index)) return
  const now = Date.now()
  if (restart.firstAt === 0) restart.firstAt = now
  restart.lastAt = now
  if (restart.pending.size === 0) {
    restart.tally.extraStarts = entries.reduce((sum, e, i) => sum + e.starts - restart!.startsBefore[i]! - 1, 0)
    void reply({ type: 'resubscribed', firstAt: restart.firstAt, lastAt: restart.lastAt, ...restart.tally })
  }
}

/** Starts subscriber `index` and resolves once its first subscription is acknowledged. */
function startSubscriber(port: number, index: number): Promise<void> {
  return new Promise((resolve) => {
    const checker = new SeqChecker(`storm/${implName} subscriber ${index} (${localAddress})`, 0)
    checker.onComplete = () => {
      if (allReceived !== undefined && --allReceived.left === 0) allReceived.resolve()
    }
    // The hooks run later, in the library's callbacks, once the entry is in place.
    const subscriber = open(port, localAddress, {
      started() {
        started(index)
        if (entries[index]!.starts === 1) resolve()
      },
      event(event) {
        checker.onEvent(event)
        // A wrong event fails the run now, not when the wait for the rest times out.
        if (checker.error !== undefined) fail(checker.error)
      },
      resync() {
        if (restart === undefined) return fail(new Error(`storm/${implName}: subscriber ${index} was told to resync before any restart`))
        restart.tally.resyncs++
      },
      dropped(reason) {
        if (restart === undefined) return
        restart.tally.drops[reason] = (restart.tally.drops[reason] ?? 0) + 1
      },
      retry(delayMs) {
        if (restart === undefined) return
        restart.tally.retries++
        if (delayMs !== undefined) restart.tally.maxRetryDelayMs = Math.max(restart.tally.maxRetryDelayMs, delayMs)
      },
      // Thrown inside a library's callback, an error might be swallowed: report it straight away.
      failed: fail,
    })
    entries[index] = { subscriber, checker, starts: 0 }
  })
}

async function openAll(port: number, count: number): Promise<void> {
  const first = entries.length
  for (let i = 0; i < count; i += CONNECT_CONCURRENCY) {
    const batch = Math.min(CONNECT_CONCURRENCY, count - i)
    await Promise.all(Array.from({ length: batch }, (_, j) => startSubscriber(port, first + i + j)))
  }
}

/** Every checker expects `events` from now on; the promise of their arrival is made before anything is published. */
function expect(events: number): void {
  for (const entry of entries) entry.checker.reset(events)
  let resolve: () => void = () => {}
  const promise = new Promise<void>((r) => (resolve = r))
  allReceived = { left: entries.length, resolve, promise }
  if (events === 0 || entries.length === 0) resolve()
}

runChild<ToStormClient>(
  async () => {
    if (!STORM_IMPLS.includes(implName as StormImpl)) throw new Error(`the storm runs no implementation ${String(implName)}`)
    open = await loadSubscriber(implName as StormImpl)
    await reply({ type: 'ready' })
  },
  async (message) => {
    switch (message.type) {
      case 'open':
        await openAll(message.port, message.count)
        return reply({ type: 'opened' })
      case 'expect':
        expect(message.events)
        return reply({ type: 'expecting' })
      case 'publish':
        await entries[0]!.subscriber.publish(message.count)
        return reply({ type: 'published' })
      case 'await-events': {
        await allReceived?.promise
        for (const entry of entries) entry.checker.check()
        return reply({ type: 'received', events: entries.reduce((sum, entry) => sum + entry.checker.received, 0) })
      }
      case 'arm':
        restart = {
          startsBefore: entries.map((entry) => entry.starts),
          pending: new Set(entries.keys()),
          firstAt: 0,
          lastAt: 0,
          tally: { resyncs: 0, extraStarts: 0, drops: {}, retries: 0, maxRetryDelayMs: 0 },
        }
        return reply({ type: 'armed' })
      case 'progress':
        return reply({ type: 'progress', pending: restart?.pending.size ?? entries.length, total: entries.length })
      case 'close':
        await Promise.all(entries.map((entry) => entry.subscriber.close()))
        return reply({ type: 'closed' })
      case 'exit':
        return process.exit(0)
    }
  },
)
