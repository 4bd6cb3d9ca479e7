/**
 * How a scale case spreads thousands of client connections: over several
 * client processes, so that none runs out of file descriptors (the limit
 * here is 20,000 per process) or hogs one event loop, and over source
 * addresses 127.0.0.2, 127.0.0.3, ..., each with its own ~28,000
 * ephemeral ports (net.ipv4.ip_local_port_range), so that neither the
 * connections of one run nor the TIME_WAIT sockets left by the runs before
 * exhaust them.
 */

/** The most connections one client process opens. */
export const CONNECTIONS_PER_PROCESS = 5_000

/**
 * Connections each client process opens at once. With at most four client
 * processes, 400 are in flight: under the listen backlog (511), which all
 * at once would overflow into SYN retries a second later (measuring the
 * kernel, not the library); see cases/connections.ts.
 */
export const CONNECT_CONCURRENCY = 100

/** How many client processes the largest of `sizes` needs. */
export function processesFor(sizes: readonly number[]): number {
  return Math.max(1, Math.ceil(Math.max(...sizes) / CONNECTIONS_PER_PROCESS))
}

/** `count` connections shared out over `processes` processes, as evenly as they go. */
export function shares(count: number, processes: number): number[] {
  return Array.from({ length: processes }, (_, i) => Math.floor(count / processes) + (i < count % processes ? 1 : 0))
}

/** The last source address handed out, as a number below 127.0.0.0/8's host part. */
let lastAddress = 1

/**
 * A loopback address no client process of this orchestrator has used yet
 * (127.0.0.2 first). Linux routes all of 127.0.0.0/8 to lo; addresses
 * ending in .0 or .255 are skipped.
 */
export function nextSourceAddress(): string {
  do lastAddress++
  while ((lastAddress & 255) === 0 || (lastAddress & 255) === 255)
  if (lastAddress >= 1 << 24) throw new Error('out of loopback source addresses')
  return `127.${(lastAddress >> 16) & 255}.${(lastAddress >> 8) & 255}.${lastAddress & 255}`
}
