import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root, with a trailing separator. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

/** The pages readers build from: README.md and every docs/**\/*.md, as paths from the repository root. */
export function docPages(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) return walk(path)
      return entry.name.endsWith('.md') ? [relative(repoRoot, path)] : []
    })
  return ['README.md', ...walk(join(repoRoot, 'docs')).sort()]
}

export function readPage(page: string): string {
  return readFileSync(join(repoRoot, page), 'utf8')
}

/** A fenced code block. */
export interface CodeBlock {
  page: string
  /** 1-based line of the opening fence; the code starts on the next line. */
  line: number
  /** The first word of the fence's info string (`ts`, `json`...). */
  lang: string
  /** The other words of the info string (`not-compiled`...): GitHub ignores them. */
  flags: string[]
  code: string
}

/** The fenced blocks of a page. Fences are at column 0 in these docs; a fence inside a block does not occur. */
export function codeBlocks(page: string, text = readPage(page)): CodeBlock[] {
  const blocks: CodeBlock[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)(.*)$/.exec(lines[i]!)
    if (!open) continue
    const end = lines.findIndex((line, j) => j > i && line.startsWith('```'))
    if (end === -1) throw new Error(`${page}:${i + 1}: a code fence that is never closed`)
    blocks.push({
      page,
      line: i + 1,
      lang: open[1]!,
      flags: open[2]!.trim().split(/\s+/).filter(Boolean),
      code: lines.slice(i + 1, end).join('\n'),
    })
    i = end
  }
  return blocks
}

/** A markdown table, with the heading it sits under. */
export interface Table {
  page: string
  /** 1-based line of the header row. */
  line: number
  /** The nearest heading above the table, without its `#`s. */
  heading: string
  header: string[]
  rows: { line: number; cells: string[] }[]
}

/** Splits a table row into trimmed cells; `\|` inside a cell is a literal bar. */
function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replace(/\\\|/g, '|'))
}

/** The tables of a page, outside code blocks. */
export function tables(page: string, text = readPage(page)): Table[] {
  const found: Table[] = []
  const lines = text.split('\n')
  let heading = ''
  let inFence = false
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.startsWith('```')) inFence = !inFence
    if (inFence) continue
    const h = /^#+\s+(.*)$/.exec(line)
    if (h) heading = h[1]!
    if (!line.startsWith('|') || !/^\|[\s|:-]+\|$/.test(lines[i + 1] ?? '')) continue
    const table: Table = { page, line: i + 1, heading, header: cells(line), rows: [] }
    let j = i + 2
    for (; j < lines.length && lines[j]!.startsWith('|'); j++) table.rows.push({ line: j + 1, cells: cells(lines[j]!) })
    found.push(table)
    i = j - 1
  }
  return found
}
