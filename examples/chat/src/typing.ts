import { Notifier, snapshots } from './notifier'

/**
 * Who is typing in one room. `set(user, true)` marks a user as typing for
 * `ttlMs`; pages repeat it while the user types, so an indicator goes away
 * by itself when they stop, close the tab or lose the connection.
 */
export class RoomTyping {
  /** User -> when their indicator expires (epoch ms). */
  readonly #until = new Map<string, number>()
  readonly #changes = new Notifier()
  readonly #ttlMs: number
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs
  }

  /** Marks `user` as typing for the next `ttlMs`, or as done. */
  set(user: string, typing: boolean): void {
    const wasTyping = this.#until.has(user)
    if (typing) this.#until.set(user, Date.now() + this.#ttlMs)
    else this.#until.delete(user)
    this.#schedule()
    if (wasTyping !== typing) this.#changes.notify() // extending an indicator changes nothing visible
  }

  /** The users typing now, sorted. */
  users(): string[] {
    return [...this.#until.keys()].sort((a, b) => a.localeCompare(b))
  }

  /** The users typing now and after every change, until `signal` aborts. */
  watch(signal: AbortSignal): AsyncGenerator<{ users: string[] }> {
    return snapshots(this.#changes, () => ({ users: this.users() }), signal)
  }

  /** Stops the expiry timer. */
  close(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** One timer per room, for the indicator that expires first. */
  #schedule(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#until.size === 0) return
    const next = Math.min(...this.#until.values())
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, next - Date.now()) + 5)
    this.#timer.unref() // an indicator is no reason to keep the process alive
  }

  #expire(): void {
    const now = Date.now()
    let expired = false
    for (const [user, until] of this.#until) {
      if (until <= now) {
        this.#until.delete(user)
        expired = true
      }
    }
    this.#schedule()
    if (expired) this.#changes.notify()
  }
}
