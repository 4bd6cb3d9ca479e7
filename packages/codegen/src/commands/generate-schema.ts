import type { Command } from '../cli/io'

/** Placeholder until the command lands. */
export const generateSchema: Command = async (_args, io) => {
  io.stderr.write('wirecall: generate-schema is not built yet\n')
  return 1
}
