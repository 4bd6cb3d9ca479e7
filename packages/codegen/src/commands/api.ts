import type { Command } from '../cli/io'

/** Placeholder until the command lands. */
export const apiLock: Command = async (_args, io) => {
  io.stderr.write('wirecall: api lock is not built yet\n')
  return 1
}

/** Placeholder until the command lands. */
export const apiCheck: Command = async (_args, io) => {
  io.stderr.write('wirecall: api check is not built yet\n')
  return 1
}
