/** A minimal typed event emitter. Listener errors are reported, never thrown into the emitter's caller. */
export class Emitter<TEvents extends { [K in keyof TEvents]: (...args: any[]) => void }> {
  private readonly listeners: { [K in keyof TEvents]?: Set<TEvents[K]> } = {}

  on<K extends keyof TEvents>(event: K, listener: TEvents[K]): () => void {
    const set = (this.listeners[event] ??= new Set())
    set.add(listener)
    return () => {
      set.delete(listener)
    }
  }

  emit<K extends keyof TEvents>(event: K, ...args: Parameters<TEvents[K]>): void {
    const set = this.listeners[event]
    if (set === undefined) return
    for (const listener of [...set]) {
      try {
        listener(...args)
      } catch (error) {
        reportListenerError(error)
      }
    }
  }

  clear(): void {
    for (const key of Object.keys(this.listeners)) delete this.listeners[key as keyof TEvents]
  }
}

/**
 * Surfaces an exception thrown by application code the client called back
 * (an event listener, `onData`...) the way a DOM event listener's would be:
 * as an uncaught error, after the client has finished its own work, so the
 * app's bug cannot leave the client half-way through a state change.
 */
export function reportListenerError(error: unknown): void {
  queueMicrotask(() => {
    throw error
  })
}
