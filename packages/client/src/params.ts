import type { RpcClientOptions } from './options'

type Params = Record<string, unknown> | undefined

/**
 * Where the `connectionParams` of each `init` come from. Three sources, in
 * this order: params given to `updateParams` while disconnected (for the
 * very next connect, whatever the option is); else the option, when it is
 * a function (evaluated on every connect: a refreshed token); else the
 * params the server last accepted through `updateParams`, else the option.
 */
export class ConnectionParams {
  /** What `updateParams` set, used for later connects when the option is not a function. */
  private declare override: Params
  /** What `updateParams` gave while disconnected: the next connect sends it. */
  private declare pending: Params

  constructor(private readonly option: RpcClientOptions['connectionParams']) {}

  /** The params for the next `init`. */
  async next(): Promise<Params> {
    const pending = this.pending
    if (pending !== undefined) {
      this.pending = undefined
      return pending
    }
    if (typeof this.option === 'function') return this.option()
    return this.override ?? this.option
  }

  /** `updateParams` while disconnected: the next `init` carries them (without an argument, it evaluates the option anyway). */
  keepForNextConnect(params: Params): void {
    if (params !== undefined) this.override = params
    this.pending = params
  }

  /** The option, evaluated again: what `updateParams()` without an argument sends. */
  async evaluate(): Promise<Params> {
    return typeof this.option === 'function' ? this.option() : this.option
  }

  /** The server took params from `updateParams`: later connects use them. Refused params must not end the next connect. */
  accepted(params: Params): void {
    if (params !== undefined) this.override = params
  }
}
