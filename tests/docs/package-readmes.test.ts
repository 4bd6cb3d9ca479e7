import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { compileDocs } from './compile-blocks'
import { codeBlocks, readPage, repoRoot } from './markdown'
import { packageReadmes } from './package-readmes'

/**
 * The README of each published package: its npm page (issue 17, point 10).
 * Each says what the package is, how to install it, shows an example that
 * compiles (against the sources, with the repository's strict settings, as
 * the docs' blocks do: block-modules.ts) and links to the guides on GitHub,
 * every link to a file that exists. The install command covering the
 * example's imports is checked with the docs' in install-lines.test.ts.
 */

const compiled = compileDocs(packageReadmes)
const GITHUB = 'https://github.com/wirecall/wirecall/blob/main/'

describe('the packages’ READMEs', () => {
  it('compile with nothing wrong outside their blocks', () => {
    expect(compiled.other).toEqual([])
  })

  for (const page of packageReadmes) {
    const name = `@wirecall/${page.split('/')[1]}`

    it(`${page}: names ${name}, installs it, and shows an example that compiles`, () => {
      const text = readPage(page)
      expect(text.startsWith(`# ${name}\n`), 'the title is the package name').toBe(true)
      const install = codeBlocks(page).filter((b) => b.lang === 'sh').flatMap((b) => b.code.split('\n'))
      expect(install.some((line) => line.startsWith('npm install ') && line.split(/\s+/).includes(name)), `an "npm install ${name}" line`).toBe(true)
      const modules = compiled.pages.flatMap((p) => p.blocks).filter((m) => m.block.page === page)
      expect(modules.filter((m) => m.kind === 'compiled').length, 'a compiled example').toBeGreaterThan(0)
      const problems = compiled.diagnostics.filter((d) => d.module.block.page === page).map((d) => `${page}:${d.line}: TS${d.code}: ${d.message}`)
      expect(problems).toEqual([])
    })

    it(`${page}: links to the documentation on GitHub, and every such link exists`, () => {
      const links = [...readPage(page).matchAll(/\]\((https:\/\/github\.com\/wirecall\/wirecall\/blob\/main\/[^)#]+)/g)].map((m) => m[1]!)
      expect(links.length).toBeGreaterThan(0)
      for (const link of links) expect(existsSync(join(repoRoot, link.slice(GITHUB.length))), link).toBe(true)
      expect(readPage(page)).toMatch(/License: MIT\./)
    })
  }
})
