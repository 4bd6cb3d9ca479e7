import { describe, expect, it } from 'vitest'
import { installed, needed } from './install-commands'
import { docPages } from './markdown'
import { packageReadmes } from './package-readmes'

/**
 * A page that says what to install says all of it (issue 17, point 2:
 * docs/frameworks/express.md's install line left out `@wirecall/core` and
 * zod, and the reader's build failed with TS2307). For every page with an
 * install command (`npm install`, `pnpm add`, `bun add`...), each package
 * that its code imports must be on one of them, with what TypeScript needs
 * to type it:
 *
 * - a package imported by a ts block of the page, types included
 *   (`import type` still needs the package);
 * - a package that the page's own modules import, when a block imports one
 *   of them for its value: `import { appRouter } from './router'` runs the
 *   reader's router, so the router's `@wirecall/core` and zod must be
 *   there. The reader's modules are tests/docs/fixtures (see
 *   block-modules.ts). `import type` from a relative module does not
 *   count: the types may live in another project (a client importing a
 *   server's `AppRouter`);
 * - `@types/<name>` for an imported package that ships no types of its
 *   own (express, koa, ws), and `@types/node` for `node:` modules.
 */

const pages = [...docPages(), ...packageReadmes].filter((page) => installed(page) !== undefined)

describe('install commands in the docs', () => {
  it('are found on the pages that must have one', () => {
    const framework = docPages().filter((p) => p.startsWith('docs/frameworks/') && !p.endsWith('README.md'))
    for (const page of ['docs/getting-started.md', ...framework, ...packageReadmes]) {
      expect(pages, `${page} has no install command`).toContain(page)
    }
  })

  for (const page of pages) {
    it(`${page}: every package its code imports is installed, with its types`, () => {
      const have = installed(page)!
      const missing = [...needed(page)].filter(([name]) => !have.has(name)).map(([name, why]) => `${name} (${why})`)
      expect(missing).toEqual([])
    })
  }

  it('sees what a page misses: a block that imports a package the install line leaves out', () => {
    // The rule itself, on express.md as issue 17 found it.
    const before = { installed: new Set(['@wirecall/server', '@wirecall/client', 'express']) }
    const need = [...needed('docs/frameworks/express.md').keys()].filter((name) => !before.installed.has(name))
    expect(need).toEqual(expect.arrayContaining(['@wirecall/core', 'zod', 'ws', '@types/express', '@types/ws']))
  })
})
