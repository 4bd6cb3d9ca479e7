import { fileURLToPath } from 'node:url'
import type { CliIo } from '@wirecall/codegen'

/** The fixture routers' folder. */
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url))
/** The repository's root. */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url))

/** A `CliIo` that keeps what a command writes, for `main([...], io)` in-process. */
export function captureIo(cwd: string): CliIo & { out: () => string; err: () => string } {
  let out = ''
  let err = ''
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    cwd,
    env: {},
    signal: new AbortController().signal,
    out: () => out,
    err: () => err,
  }
}
