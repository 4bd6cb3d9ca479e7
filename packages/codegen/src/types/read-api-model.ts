import type { ApiModel } from '../model/api-model'
import type { RouterSpec } from '../load/router-spec'

/** Options of {@link readApiModel}. */
export interface ReadApiModelOptions {
  /** The tsconfig.json to compile the router with; by default the nearest one above the file. */
  readonly tsconfig?: string | undefined
}

/** The router's wire-only API, read from the TypeScript checker's view of its type. (Stub: being built.) */
export async function readApiModel(_spec: RouterSpec, _options?: ReadApiModelOptions): Promise<ApiModel> {
  throw new Error('readApiModel is not built yet')
}
