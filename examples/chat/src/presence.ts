import { Notifier, snapshots } from './notifier'

/**
 * Who is in one room. A user is in it while at least one of their presence
 * subscriptions runs (one per open tab), so closing the last tab, losing the
 * connection or switching rooms all count as leaving.
 */
export class RoomPresence {
  /** User -> presence subscriptions open now. */
  readonly #subscriptions = new Map<string, number>()
  readonly #changes = new Notifier()
  /** Called when a user's last subscription ends (their typing indicator goes too). */
  readonly #onLeave: (user: string) => void

  constructor(onLeave: (user: string) => void = () => {}) {
    this.#onLeave = onLeave
  }

  /** The users in the room, sorted. */
  users(): string[] {
    return [...this.#subscriptions.keys()].sort((a, b) => a.localeCompare(b))
  }

  /**
   * Enters the room as `user`, then yields the list of users now and after
   * every change, until `signal` aborts; leaves the room however the
   * subscription ends.
   */
  async *watch(user: string, signal: AbortSignal): AsyncGenerator<{ users: string[] }> {
    this.#enter(user)
    try {
      yield* snapshots(this.#changes, () => ({ users: this.users() }), signal)
    } finally {
      this.#leave(user)
    }
  }

  #enter(user: string): void {
    const count = this.#subscriptions.get(user) ?? 0
    this.#subscriptions.set(user, count + 1)
    if (count === 0) this.#changes.notify()
  }

  #leave(user: string): void {
    const count = (this.#subscriptions.get(user) ?? 1) - 1
    if (count > 0) return void this.#subscriptions.set(user, count)
    this.#subscriptions.delete(user)
    this.#onLeave(user)
    this.#changes.notify()
  }
}
