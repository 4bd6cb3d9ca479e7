import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

/**
 * `instanceof RpcError` when the ESM and the CommonJS builds of
 * `@wirecall/core` meet in one Node process (issue 17, point 8): each build
 * has its own class, and the registered brand makes either recognise the
 * other's errors. The fixture runs in a process of its own, without
 * vitest's aliases, so both builds are the real dist/ files. `pnpm test`
 * builds first; run `pnpm build` before running this file alone.
 */

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))

describe('one RpcError across the ESM and CJS builds', () => {
  it('instanceof holds both ways, for errors made locally and errors from the wire; subclasses keep the prototype check', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/dual-error.mjs', import.meta.url))
    const { stdout } = await run(process.execPath, [fixture], { cwd: root, timeout: 15_000 })
    expect(JSON.parse(stdout)).toEqual({
      distinctClasses: true,
      cjsErrorIsEsmRpcError: true,
      esmErrorIsCjsRpcError: true,
      clientErrorIsEsmRpcError: true,
      clientErrorCode: 'CONFLICT',
      fromKeepsIt: true,
      subclassIsBoth: true,
      cjsErrorIsNotSubclass: true,
      plainErrorIsNot: true,
    })
  })
})
