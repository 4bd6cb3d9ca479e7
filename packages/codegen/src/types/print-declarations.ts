import type { ApiModel } from '../model/api-model'

/** Options of {@link printApiDeclarations}. */
export interface PrintDeclarationsOptions {
  /** The exported type's name. @default 'AppApi' */
  readonly name?: string | undefined
  /** Import nothing, not even types from `@wirecall/client`. */
  readonly selfContained?: boolean | undefined
}

/** The text of `api.d.ts` for an API. (Stub: being built.) */
export function printApiDeclarations(_model: ApiModel, _options?: PrintDeclarationsOptions): string {
  throw new Error('printApiDeclarations is not built yet')
}
