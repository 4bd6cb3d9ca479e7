import { CliError } from '../cli-error'
import type { CliIo, Command } from './io'
import { apiCheck, apiLock } from '../commands/api'
import { call } from '../commands/call'
import { generateSchema } from '../commands/generate-schema'
import { generateTypes } from '../commands/generate-types'
import { subscribe } from '../commands/subscribe'

const USAGE = `wirecall — typed APIs for consumers outside the monorepo, and a terminal client

  wirecall generate types  --router <file>#<export> | --url <ws-url>  --out api.d.ts [--name AppApi] [--self-contained]
  wirecall generate schema --router <file>#<export> | --url <ws-url>  --out schema/ [--asyncapi asyncapi.json] [--strict]
  wirecall api lock        --router <file>#<export> --out api.lock.json
  wirecall api check       --router <file>#<export> --against api.lock.json [--types api.d.ts]
  wirecall call      <url> <path> [json] [--params json] [--timeout ms] [--mutation] [--json]
  wirecall subscribe <url> <path> [json] [--params json] [--last-event-id id] [--json]

Exit status: 0 ok; 1 usage, load or generation error, or a breaking API change;
call/subscribe: 2 the server answered with an RpcError (its code is printed),
3 connection failure (refused, unreachable, closed by the server, dropped and
not restored, or no answer within --timeout, default 10000 ms); a call
interrupted by Ctrl-C: 130. subscribe ends with 0 on the server's complete or on Ctrl-C.
Docs: https://github.com/wirecall/wirecall/blob/main/docs/generate.md
`

/** Commands by their words; the longest match wins. */
const COMMANDS: ReadonlyMap<string, Command> = new Map([
  ['generate types', generateTypes],
  ['generate schema', generateSchema],
  ['api lock', apiLock],
  ['api check', apiCheck],
  ['call', call],
  ['subscribe', subscribe],
])

/** Runs the CLI on `argv` (without node and the script); resolves to the exit status. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout.write(USAGE)
    return argv.length === 0 ? 1 : 0
  }
  const two = `${argv[0]} ${argv[1] ?? ''}`
  const [words, command] = COMMANDS.has(two) ? [2, COMMANDS.get(two)!] : COMMANDS.has(argv[0]!) ? [1, COMMANDS.get(argv[0]!)!] : [0, undefined]
  if (command === undefined) {
    io.stderr.write(`wirecall: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${USAGE}`)
    return 1
  }
  try {
    return await command(argv.slice(words), io)
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`wirecall: ${error.message}\n`)
      if (error.code === 'USAGE') io.stderr.write(`\n${USAGE}`)
      return 1
    }
    throw error
  }
}
