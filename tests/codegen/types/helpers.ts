import { fileURLToPath } from 'node:url'

/** The fixture routers' folder. */
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url))
/** The repository's root. */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url))

export { captureIo } from '../run-cli'
