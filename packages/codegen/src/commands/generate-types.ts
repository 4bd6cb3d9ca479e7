import type { Command } from '../cli/io'

/** Placeholder until the command lands. */
export const generateTypes: Command = async (_args, io) => {
  io.stderr.write('wirecall: generate-types is not built yet\n')
  return 1
}
