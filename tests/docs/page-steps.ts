import { codeBlocks } from './markdown'

/**
 * A page read as a procedure a reader follows, block by block: the
 * commands to type, the files to save, and what a command prints.
 *
 * - A ```` ```sh ```` block is commands, one a line (`#` comments and blank
 *   lines are not commands).
 * - A block whose first line names a file (`// server.ts`,
 *   `// tsconfig.json`) is that file, saved whole: the name line stays, as
 *   a reader who copies the block keeps it (TypeScript and tsconfig.json
 *   allow comments); in a ```` ```json ```` block, whose format has none,
 *   it is left out. ```` ```ts expect-error ```` marks a file that must
 *   not compile (see expected-errors.ts for how its lines are marked).
 * - A ```` ```text ```` block right after commands is what the last of
 *   them prints.
 *
 * Any other block is an error: on a page read this way, every block is a
 * step.
 */
export type Step =
  | { kind: 'commands'; line: number; commands: string[]; output?: string }
  | { kind: 'file'; line: number; path: string; text: string; expectError: boolean }

const fileName = /^\/\/ ((?:[\w@.-]+\/)*[\w@.-]+\.[a-z]+)$/

export function pageSteps(page: string): Step[] {
  const steps: Step[] = []
  for (const block of codeBlocks(page)) {
    const where = `${page}:${block.line}`
    if (block.lang === 'sh') {
      const commands = block.code
        .split('\n')
        .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
        .filter((line) => line !== '')
      steps.push({ kind: 'commands', line: block.line, commands })
      continue
    }
    if (block.lang === 'text') {
      const previous = steps.at(-1)
      if (previous?.kind !== 'commands' || previous.output !== undefined) throw new Error(`${where}: an output block that follows no commands`)
      previous.output = block.code
      continue
    }
    const [first = '', ...rest] = block.code.split('\n')
    const named = fileName.exec(first)
    if (!named) throw new Error(`${where}: a \`\`\`${block.lang} block that is not a whole file (its first line names none: "// name.ts")`)
    steps.push({
      kind: 'file',
      line: block.line,
      path: named[1]!,
      text: `${block.lang === 'json' ? rest.join('\n') : block.code}\n`,
      expectError: block.flags.includes('expect-error'),
    })
  }
  return steps
}
