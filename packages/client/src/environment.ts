/** What the page tells the client about the network and itself. */
export interface EnvironmentHandlers {
  /** The browser is back online: a waiting reconnect should happen now. */
  online(): void
  /** The browser went offline: an open connection is suspect. */
  offline(): void
  /** The page became visible again (a laptop woke up, a tab came back): check the connection. */
  visible(): void
}

interface EventTargetish {
  addEventListener(type: string, listener: () => void): void
  removeEventListener(type: string, listener: () => void): void
}

/**
 * Listens to `online`/`offline` on the global object and `visibilitychange`
 * on `document`, where they exist (browsers, some workers); elsewhere (Node,
 * Deno servers) it does nothing. Returns the function that stops listening.
 */
export function watchEnvironment(handlers: EnvironmentHandlers): () => void {
  const scope = globalThis as Partial<EventTargetish> & { document?: Partial<EventTargetish> & { visibilityState?: string } }
  const stops: (() => void)[] = []
  const listen = (target: Partial<EventTargetish> | undefined, type: string, listener: () => void) => {
    if (typeof target?.addEventListener !== 'function' || typeof target.removeEventListener !== 'function') return
    target.addEventListener(type, listener)
    stops.push(() => target.removeEventListener!(type, listener))
  }
  listen(scope, 'online', () => handlers.online())
  listen(scope, 'offline', () => handlers.offline())
  const document = scope.document
  listen(document, 'visibilitychange', () => {
    if (document?.visibilityState === 'visible') handlers.visible()
  })
  return () => {
    for (const stop of stops.splice(0)) stop()
  }
}

/** True only when the runtime says for sure it has no network (`navigator.onLine === false`). */
export function isOffline(): boolean {
  return (globalThis as { navigator?: { onLine?: unknown } }).navigator?.onLine === false
}
