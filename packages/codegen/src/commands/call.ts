import type { Command } from '../cli/io'

/** Placeholder until the command lands. */
export const call: Command = async (_args, io) => {
  io.stderr.write('wirecall: call is not built yet\n')
  return 1
}
