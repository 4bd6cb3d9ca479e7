/** Why a command failed, as a code the CLI maps to an exit status and a one-line message. */
export type CliErrorCode =
  /** Bad arguments: exit 1 with the usage line. */
  | 'USAGE'
  /** The router file or export cannot be loaded or is not a router. */
  | 'LOAD'
  /** A payload type cannot cross the wire (a function, class instance, symbol). */
  | 'UNREPRESENTABLE'
  /** `--strict` and there were warnings. */
  | 'STRICT'
  /** `api check` found a breaking change or stale artifacts. */
  | 'DRIFT'
  /** A file could not be read or written. */
  | 'IO'

/** An error the CLI reports as one line (no stack): the user's input was wrong, not the generator. */
export class CliError extends Error {
  override readonly name = 'CliError'
  constructor(
    readonly code: CliErrorCode,
    message: string,
  ) {
    super(message)
  }
}
