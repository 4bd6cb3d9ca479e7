import { describe, expect, it } from 'vitest'
import { serverDefaults } from '@wirecall/server'
import { docPages, readPage } from './markdown'
import { packageReadmes } from './package-readmes'

/**
 * The statements issue 17 (point 9) found contradicting the code, each
 * checked against what is true, so that none comes back:
 *
 * - "no limit on calls in flight": there is `maxInFlightCalls`;
 * - "check Origin in createContext until the built-in allowlist arrives":
 *   there is `allowedOrigins`;
 * - backpressure "planned" in docs/subscriptions.md: it exists, and the page
 *   says so and links to where it is documented;
 * - "the validators' types must resolve from the client" in
 *   docs/routers.md: the emitted declarations import `@wirecall/core` only
 *   (tests/build/router-declarations.test.ts);
 * - a client bundle "superjson included": superjson is not in it
 *   (tests/browser/bundle-size.test.ts), and the figures the pages quote are
 *   the enforced budget (bundle-figures.test.ts).
 *
 * Promises in general ("coming next", "planned", "not yet"...) are the
 * business of no-stale-promises.test.ts.
 */

const pages = [...docPages(), ...packageReadmes]

/** The lines of every page that match, as `page:line: text`. */
function linesMatching(pattern: RegExp): string[] {
  return pages.flatMap((page) => {
    const lines = readPage(page).split('\n')
    // With the next line joined on: a statement wrapped over two lines is still one statement.
    return lines.flatMap((line, i) => (pattern.test(`${line} ${lines[i + 1] ?? ''}`) ? [`${page}:${i + 1}: ${line.trim()}`] : []))
  })
}

/** The text of a page under a heading, up to the next heading of the same level or above. */
function section(page: string, heading: string): string {
  const lines = readPage(page).split('\n')
  const start = lines.findIndex((line) => line.replace(/^#+\s+/, '') === heading && line.startsWith('#'))
  if (start === -1) throw new Error(`${page} has no heading "${heading}"`)
  const level = /^#+/.exec(lines[start]!)![0].length
  const end = lines.findIndex((line, i) => i > start && /^#+\s/.test(line) && /^#+/.exec(line)![0].length <= level)
  return lines.slice(start, end === -1 ? undefined : end).join('\n')
}

const number = (n: number) => `\`${n.toLocaleString('en-US').replace(/,/g, '_')}\``

describe('statements the docs once got wrong', () => {
  it('no page says calls in flight are unlimited; server.md gives maxInFlightCalls and its default', () => {
    expect(linesMatching(/\bno (?:limit|cap|bound)\b[^.]*\bin flight\b|\bunlimited\b[^.]*\bcalls\b/i)).toEqual([])
    const text = section('docs/server.md', 'Calls in flight')
    expect(text).toContain('`maxInFlightCalls`')
    expect(text).toContain(`(default ${number(serverDefaults.maxInFlightCalls)})`)
  })

  it('no page tells you to check Origin in createContext for want of an allowlist; allowedOrigins is documented', () => {
    expect(linesMatching(/\buntil\b[^.]*\ballowlist\b|\bcheck\b[^.]*\bOrigin\b[^.]*\bin `?createContext\b/i)).toEqual([])
    expect(section('docs/security.md', 'Browsers: the Origin check')).toContain('allowedOrigins')
    expect(readPage('docs/server.md')).toMatch(/^\| `allowedOrigins` \|/m)
  })

  it('docs/subscriptions.md describes backpressure as it is, and links to where it is documented', () => {
    const text = readPage('docs/subscriptions.md')
    expect(text).toMatch(/stops pulling events/)
    expect(text).toContain('(./security.md#backpressure-slow-readers)')
    expect(readPage('docs/security.md')).toMatch(/^## Backpressure: slow readers$/m)
  })

  it("docs/routers.md says what a client needs of a router's types, as tests/build/router-declarations.test.ts shows", () => {
    expect(linesMatching(/\bvalidators?'? types\b[^.]*\bmust resolve\b/i)).toEqual([])
    const text = readPage('docs/routers.md')
    expect(text).toMatch(/import from\s+`@wirecall\/core` only/)
    expect(text).toContain('tests/build/router-declarations.test.ts')
  })

  it('no page says the client bundle includes superjson', () => {
    expect(linesMatching(/\bsuperjson included\b|\bincluding superjson\b|\bwith superjson\b[^.]*\bgzip/i)).toEqual([])
  })
})
