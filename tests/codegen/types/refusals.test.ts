import { describe, expect, it } from 'vitest'
import { main } from '@wirecall/codegen'
import { captureIo, FIXTURES } from './helpers'

// Each refusal is one exit status 1 and one line naming the procedure, the side and the property path.
describe('generate types refuses what cannot cross the wire', () => {
  it.each([
    ['functionRouter', 'wirecall: post.add output → .author.save: a function cannot cross the wire\n'],
    ['classRouter', 'wirecall: latest output → .items[]: an instance of class Post cannot cross the wire\n'],
    ['symbolRouter', 'wirecall: tagged output → .tag: a symbol cannot cross the wire\n'],
    ['inputFunctionRouter', 'wirecall: run input → .cb: a function cannot cross the wire\n'],
    ['symbolKeyRouter', 'wirecall: keyed output → .nested[symbol]: a symbol-keyed property cannot cross the wire\n'],
  ])('%s', async (exportName, message) => {
    const io = captureIo(FIXTURES)
    const status = await main(['generate', 'types', '--router', `refused-router.ts#${exportName}`, '--out', 'never-written.d.ts'], io)
    expect({ status, stderr: io.err() }).toEqual({ status: 1, stderr: message })
  }, 60_000)
})
