/**
 * Smoke check of the tRPC and socket.io implementations, in one process:
 * serves and connects each, runs echo (100 in flight, 1,000 calls),
 * stream(10,000) and feed (5 connections, publish 500 in bursts of 100),
 * verifies everything with the contract's verifiers, closes everything and
 * lets the process exit by itself.
 *
 * `npx tsx src/smoke-peers.ts` from bench/. Exits 1 on any failure, and also
 * when something is left open (it names what).
 */
import { echoInput, isEcho, isPushEvent, type BenchConnection, type Impl } from './contract'
import { socketio } from './impls/socketio'
import { trpc } from './impls/trpc'

const ECHO_CALLS = 1_000
const ECHO_IN_FLIGHT = 100
const STREAM_COUNT = 10_000
const FEED_CONNECTIONS = 5
const PUBLISH = { count: 500, burst: 100 }
/** Longest any step may take before the smoke check fails. */
const STEP_TIMEOUT_MS = 15_000

/** Rejects if `promise` does not settle within STEP_TIMEOUT_MS. */
async function withTimeout<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** `ECHO_CALLS` echo calls, `ECHO_IN_FLIGHT` at a time: each answer starts the next call. */
async function checkEcho(connection: BenchConnection): Promise<void> {
  let next = 0
  async function lane(): Promise<void> {
    while (next < ECHO_CALLS) {
      const id = next++
      const output = await connection.echo(echoInput(id))
      if (!isEcho(output, id)) throw new Error(`echo ${id}: wrong answer ${JSON.stringify(output)}`)
    }
  }
  await Promise.all(Array.from({ length: ECHO_IN_FLIGHT }, lane))
}

/** Counts events that must be seq 0, 1, 2… and remembers the first mismatch. */
function sequenceChecker(what: string) {
  let received = 0
  let error: Error | null = null
  return {
    onEvent(event: unknown): void {
      if (error === null && !isPushEvent(event, received)) {
        error = new Error(`${what}: event ${received} is ${JSON.stringify(event)}`)
      }
      received++
    },
    get received() {
      return received
    },
    /** Throws unless exactly `count` right events came. */
    check(count: number): void {
      if (error !== null) throw error
      if (received !== count) throw new Error(`${what}: ${received} events, expected ${count}`)
    },
  }
}

async function checkStream(connection: BenchConnection): Promise<void> {
  const checker = sequenceChecker('stream')
  await connection.stream(STREAM_COUNT, (event) => checker.onEvent(event))
  checker.check(STREAM_COUNT)
}

/** Resolves once every checker has `count` events (or more: `check` catches that). */
async function allReceived(checkers: ReturnType<typeof sequenceChecker>[], count: number): Promise<void> {
  while (checkers.some((checker) => checker.received < count)) {
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function checkFeed(impl: Impl, port: number, publisher: BenchConnection): Promise<void> {
  const connections: BenchConnection[] = []
  try {
    for (let i = 0; i < FEED_CONNECTIONS; i++) connections.push(await impl.connect(port))
    const checkers = connections.map((_, i) => sequenceChecker(`feed subscriber ${i}`))
    const feeds = await Promise.all(connections.map((c, i) => c.feed((event) => checkers[i]!.onEvent(event))))
    await publisher.publish(PUBLISH)
    await withTimeout('feed deliveries', allReceived(checkers, PUBLISH.count))
    // Leaves time for an event too many to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 50))
    for (const checker of checkers) checker.check(PUBLISH.count)
    for (const feed of feeds) feed.stop()
  } finally {
    await Promise.all(connections.map((c) => c.close()))
  }
}

async function smoke(impl: Impl): Promise<void> {
  const started = performance.now()
  const server = await withTimeout(`${impl.name} serve`, impl.serve())
  try {
    const connection = await withTimeout(`${impl.name} connect`, impl.connect(server.port))
    try {
      await withTimeout(`${impl.name} echo`, checkEcho(connection))
      await withTimeout(`${impl.name} stream`, checkStream(connection))
      await withTimeout(`${impl.name} feed`, checkFeed(impl, server.port, connection))
    } finally {
      await connection.close()
    }
  } finally {
    await withTimeout(`${impl.name} server close`, server.close())
  }
  const ms = Math.round(performance.now() - started)
  console.log(
    `ok ${impl.name}: echo ${ECHO_CALLS} (${ECHO_IN_FLIGHT} in flight), stream ${STREAM_COUNT}, ` +
      `feed ${FEED_CONNECTIONS}×${PUBLISH.count} — ${ms} ms`,
  )
}

async function main(): Promise<void> {
  for (const impl of [trpc, socketio]) await smoke(impl)
}

main()
  .catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
  .finally(() => {
    // Everything is closed, so the process should now exit on its own. If
    // something is still open after a while, say what and fail; the timer is
    // unref'd so it does not keep the process alive itself.
    setTimeout(() => {
      console.error('still running after close:', process.getActiveResourcesInfo())
      process.exit(1)
    }, 5_000).unref()
  })
