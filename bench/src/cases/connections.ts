/**
 * Opening and closing many connections of one implementation.
 */
import type { BenchConnection, ConnectOptions, Impl } from '../contract'

/**
 * Opens `count` connections, `concurrency` at a time: all at once would
 * overflow the listen backlog (511 by default) and turn into SYN retries a
 * second later, which measures the kernel, not the library.
 */
export async function connectMany(impl: Impl, port: number, count: number, concurrency = 100, options: ConnectOptions = {}): Promise<BenchConnection[]> {
  const connections: BenchConnection[] = []
  try {
    for (let i = 0; i < count; i += concurrency) {
      const batch = Math.min(concurrency, count - i)
      connections.push(...(await Promise.all(Array.from({ length: batch }, () => impl.connect(port, options)))))
    }
  } catch (error) {
    await closeAll(connections)
    throw error
  }
  return connections
}

/** Closes every connection; the first failure is thrown once all are closed. */
export async function closeAll(connections: readonly BenchConnection[]): Promise<void> {
  const outcomes = await Promise.allSettled(connections.map((connection) => connection.close()))
  const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected')
  if (failed !== undefined) throw failed.reason
}
