/**
 * Every implementation by name. Loaded on demand: a child process imports
 * only the library it runs, so its start-up and its memory baseline carry
 * no other library's modules.
 */
import type { Impl, ImplName } from '../contract'

const LOADERS: Record<ImplName, () => Promise<Impl>> = {
  raw: async () => (await import('./raw')).raw,
  wirecall: async () => (await import('./wirecall')).wirecall,
  'wirecall-baseline': async () => (await import('./wirecall-baseline')).wirecallBaseline,
  'wirecall-hooks': async () => (await import('./wirecall-hooks')).wirecallHooks,
  'wirecall-otel': async () => (await import('./wirecall-otel')).wirecallOtel,
  trpc: async () => (await import('./trpc')).trpc,
  socketio: async () => (await import('./socketio')).socketio,
}

/** The implementation called `name`. */
export function loadImpl(name: ImplName): Promise<Impl> {
  return LOADERS[name]()
}
