import { describe, expect, it } from 'vitest'
import { CLIENT_BUNDLE_GZIP_BUDGET_BYTES } from '../browser/budget'
import { readPage } from './markdown'

/**
 * The pages that talk about the client's bundle size quote one figure: the
 * budget that bundle-size.test.ts enforces. A measured size goes stale with
 * the next change to the client (the README said 13.5 KiB long after the
 * bundle was 10.9); the measured sizes of a benchmark run live in
 * docs/benchmarks.md, which says when and how they were taken.
 */

const pages = ['README.md', 'docs/runtimes/browsers.md']
const sizes = /\b\d[\d,. ]*\s?(?:B|bytes|KiB|KB|kB)\b/g

describe('bundle sizes quoted in the docs', () => {
  for (const page of pages) {
    it(`${page} quotes only the enforced budget, ${CLIENT_BUNDLE_GZIP_BUDGET_BYTES} B`, () => {
      const quoted = [...readPage(page).matchAll(sizes)].map((m) => m[0])
      expect(quoted.length).toBeGreaterThan(0)
      for (const figure of quoted) expect(Number(figure.replace(/[^\d]/g, '')), figure).toBe(CLIENT_BUNDLE_GZIP_BUDGET_BYTES)
    })
  }
})
