import { describe, expect, it } from 'vitest'
import { compileDocs } from './compile-blocks'
import { checkExpectedErrors } from './expected-errors'
import { docPages } from './markdown'

/**
 * Every ```ts (and ```tsx) block of README.md and docs/ compiles, against the packages'
 * sources, with the repository's strict settings: a renamed option, a
 * missing import or an API that does not exist fails here, with the page,
 * the line and the compiler's message. How blocks become modules (files,
 * fragments and their preludes, fence flags) is in block-modules.ts.
 */

const pages = docPages()
// One program for every block of every page, built while the file loads: no hook timeout applies.
const compiled = compileDocs(pages)

describe('the ts blocks of the docs', () => {
  it('all compile in one program (nothing wrong outside the blocks: options, preludes, fixtures)', () => {
    expect(compiled.other).toEqual([])
  })

  for (const page of compiled.pages) {
    const modules = page.blocks
    if (modules.length === 0) continue
    const name = modules[0]!.block.page

    it(`${name}: every block compiles (expect-error blocks fail where they say)`, () => {
      const problems: string[] = []
      for (const module of modules) {
        const mine = compiled.diagnostics.filter((d) => d.module === module)
        const pageLine = (blockLine: number) => `${name}:${module.block.line + 1 + blockLine}`
        if (module.kind === 'compiled') {
          problems.push(...mine.map((d) => `${name}:${d.line}: TS${d.code}: ${d.message}  (block at line ${module.block.line})`))
        } else if (module.kind === 'expect-error') {
          problems.push(...checkExpectedErrors(module.block.code, mine, pageLine))
        }
      }
      if (problems.length > 0) throw new Error(`${problems.length} problem(s) in the ts blocks of ${name}:\n${problems.join('\n')}`)
    })
  }

  it('counts the blocks compiled and excepted, page by page', () => {
    const rows = compiled.pages
      .filter((page) => page.blocks.length > 0)
      .map((page) => {
        const count = (kind: string) => page.blocks.filter((m) => m.kind === kind).length
        return { page: page.blocks[0]!.block.page, compiled: count('compiled'), 'expect-error': count('expect-error'), 'not-compiled': count('not-compiled') }
      })
    const total = (key: 'compiled' | 'expect-error' | 'not-compiled') => rows.reduce((sum, row) => sum + row[key], 0)
    console.log(
      `ts blocks in the docs: ${total('compiled')} compiled, ${total('expect-error')} compiled and expected to fail, ${total('not-compiled')} not compiled\n` +
        rows.map((row) => `  ${row.page}: ${row.compiled} / ${row['expect-error']} / ${row['not-compiled']}`).join('\n'),
    )
    // Most blocks are programs; not-compiled is for the few that cannot be (a declaration excerpt).
    expect(total('not-compiled')).toBeLessThan(total('compiled') / 10)
  })
})
