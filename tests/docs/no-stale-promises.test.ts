import { describe, expect, it } from 'vitest'
import { docPages, readPage } from './markdown'
import { packageReadmes } from './package-readmes'

/**
 * Readers build apps from these pages, so a page says what the code does
 * today. "Coming next" and "planned" outlive the work they announce: the
 * server's guide listed backpressure, limits and the Origin allowlist as
 * planned long after they shipped. Say what exists; leave plans to the
 * issues.
 */

const phrases: RegExp[] = [
  /coming next/i,
  /\bplanned\b/i,
  /\bto come\b(?!\s+back)/i, // "a time to come back" is a reconnect, not a promise
  /\bwill come\b/i,
  /\bnot (?:an )?options? (?:today|yet)\b/i,
  /\bnext step\b/i,
  /\buntil the built-in\b/i,
  /\bwill be added\b/i,
  /\bnot yet\b/i, // "not yet sent" reads as a promise too: say "unsent", "still waiting"
]

/**
 * Lines allowed to keep a phrase, each with the reason. Keep this empty
 * when you can: a real plan belongs in the issues, not in a guide.
 */
const allowed: { page: string; text: string; why: string }[] = []

describe('the docs promise nothing that is not there', () => {
  for (const page of [...docPages(), ...packageReadmes]) {
    it(`${page} has no "coming next", "planned", "next step"...`, () => {
      const lines = readPage(page).split('\n')
      const found = lines.flatMap((line, i) => {
        if (allowed.some((a) => a.page === page && line.includes(a.text))) return []
        // With the next line joined on, so that a phrase wrapped over two lines is found, where it starts.
        const text = `${line} ${lines[i + 1] ?? ''}`
        return phrases
          .filter((phrase) => {
            const match = phrase.exec(text)
            return match !== null && match.index < line.length
          })
          .map((phrase) => `${page}:${i + 1}: ${phrase} in "${line.trim()}"`)
      })
      expect(found).toEqual([])
    })
  }

  it('every allowed line still exists (a stale entry hides nothing)', () => {
    for (const a of allowed) expect(readPage(a.page), `${a.page}: ${a.text}`).toContain(a.text)
  })
})
