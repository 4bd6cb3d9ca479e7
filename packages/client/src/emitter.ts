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
        // A listener's bug must not break the connection; surface it like an unhandled error would.
        queueMicrotask(() => {
          throw error
        })
      }
    }
  }

  clear(): void {
    for (const key of Object.keys(this.listeners)) delete this.listeners[key as keyof TEvents]
  }
}
