/** What a command reads and writes besides files: injected, so tests run commands in-process too. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean | undefined }
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean | undefined }
  readonly cwd: string
  readonly env: Readonly<Record<string, string | undefined>>
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM: a running `subscribe` unsubscribes and exits. */
  readonly signal: AbortSignal
}

/** A command: its arguments after the command words; resolves to the exit status. */
export type Command = (args: readonly string[], io: CliIo) => Promise<number>
