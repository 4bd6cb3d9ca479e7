import type { IncomingMessage } from 'node:http'
import type { RpcServerOptions } from './options'
import type { AnyRouter } from '@wirecall/core'

type OriginOption = RpcServerOptions<AnyRouter>['allowedOrigins']

/**
 * Whether an upgrade's `Origin` may connect. A list matches exactly, and
 * refuses a request without the header: browsers always send it, so a list
 * is for browser clients. A predicate decides everything itself; one that
 * throws refuses.
 */
export function originAllowed(option: OriginOption, req: IncomingMessage): boolean {
  if (option === undefined) return true
  const origin = req.headers.origin
  if (typeof option === 'function') {
    try {
      return option(origin, req) === true
    } catch {
      return false
    }
  }
  return origin !== undefined && option.includes(origin)
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
