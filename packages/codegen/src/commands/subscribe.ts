import type { Command } from '../cli/io'

/** Placeholder until the command lands. */
export const subscribe: Command = async (_args, io) => {
  io.stderr.write('wirecall: subscribe is not built yet\n')
  return 1
}
