import type { IncomingMessage } from 'node:http'
import type { RpcServerOptions } from './options'
import type { AnyRouter } from '@wirecall/core'

type OriginOptions = Pick<RpcServerOptions<AnyRouter>, 'allowedOrigins' | 'requireOrigin'>

/** Why an upgrade's origin is refused: the close reason the peer reads, and the cause for `onError`. */
export interface OriginRefusal {
  reason: string
  /** What a predicate that threw threw. */
  cause?: unknown
}

/**
 * Whether an upgrade's `Origin` may connect; `undefined` when it may. A
 * list matches exactly. A request without the header is not a browser's,
 * so it cannot be a cross-site hijack: it is let in, unless
 * `requireOrigin`, and a predicate decides it like any other. A predicate
 * that throws refuses.
 */
export function originRefusal(options: OriginOptions, req: IncomingMessage): OriginRefusal | undefined {
  const origin = req.headers.origin
  if (origin === undefined && options.requireOrigin === true) return { reason: 'Origin header required' }
  const allowed = options.allowedOrigins
  if (allowed === undefined) return undefined
  if (typeof allowed === 'function') {
    try {
      return allowed(origin, req) === true ? undefined : { reason: 'origin not allowed' }
    } catch (cause) {
      return { reason: 'origin not allowed', cause }
    }
  }
  return origin === undefined || allowed.includes(origin) ? undefined : { reason: 'origin not allowed' }
}

/**
 * Counts open connections, in all and per remote address, against the
 * server's caps. `admit` returns why a new one is refused, or `undefined`
 * and counts it; `release` undoes that exactly once per admitted one.
 */
export class ConnectionCounter {
  private total = 0
  private readonly perAddress = new Map<string, number>()

  constructor(
    private readonly maxConnections: number,
    private readonly maxPerAddress: number | undefined,
  ) {}

  admit(address: string): string | undefined {
    if (this.total >= this.maxConnections) return `too many connections (at most ${this.maxConnections})`
    const fromAddress = this.perAddress.get(address) ?? 0
    if (this.maxPerAddress !== undefined && fromAddress >= this.maxPerAddress) {
      return `too many connections from one address (at most ${this.maxPerAddress})`
    }
    this.total++
    if (this.maxPerAddress !== undefined) this.perAddress.set(address, fromAddress + 1)
    return undefined
  }

  release(address: string): void {
    this.total--
    if (this.maxPerAddress === undefined) return
    const left = (this.perAddress.get(address) ?? 1) - 1
    if (left <= 0) this.perAddress.delete(address)
    else this.perAddress.set(address, left)
  }
}
