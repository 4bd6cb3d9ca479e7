import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The lines of a guide's TypeScript snippets (```ts and ```tsx fences,
 * flagged ones such as expect-error too) that no line of its recipe tests
 * holds: a recipe test proves its page only while every line of the page's
 * code runs in it. Lines are compared after dropping a trailing comment,
 * the indentation and a leading `export`; blank lines, comments, imports
 * and the lines `notRunHere` matches (they stand for the tests' harness)
 * are not looked for.
 *
 * Paths are resolved from this folder without `new URL(…, import.meta.url)`,
 * which Vite rewrites to an http: URL in DOM test environments.
 *
 * @param page the guide, from the repository's root (`docs/subscriptions.md`)
 * @param testFiles the recipe tests, in this folder
 */
export function snippetLinesNotRun(page: string, testFiles: readonly string[], notRunHere: readonly RegExp[]): { snippets: number; missing: string[] } {
  const here = dirname(fileURLToPath(import.meta.url))
  const guide = readFileSync(join(here, '../..', page), 'utf8')
  const tested = new Set(testFiles.flatMap((file) => readFileSync(join(here, file), 'utf8').split('\n')).map(normalise))
  const snippets = [...guide.matchAll(/```tsx?(?: [^\n]*)?\n([\s\S]*?)```/g)].map((m) => m[1]!)
  const missing: string[] = []
  for (const snippet of snippets) {
    for (const raw of snippet.split('\n')) {
      const line = normalise(raw)
      if (line === '' || line.startsWith('//') || line.startsWith('import ')) continue
      if (notRunHere.some((pattern) => pattern.test(line))) continue
      if (!tested.has(line)) missing.push(line)
    }
  }
  return { snippets: snippets.length, missing }
}

function normalise(line: string): string {
  return line
    .replace(/\s+\/\/ .*$/, '') // a trailing comment
    .trim()
    .replace(/^export (?=const|function|async function|type|interface|let)/, '')
}
