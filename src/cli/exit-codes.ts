/** Exit codes of the command line, and the error that carries one up to runCli. */

export const EXIT = {
  /** The operation did what was asked. */
  ok: 0,
  /** The operation failed: server unreachable, refused, or a deployment that did not succeed. */
  failed: 1,
  /** The command line itself was wrong: unknown command, missing argument, malformed flag. */
  usage: 2,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** An error whose one-line message is printed as is, then the process exits with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: ExitCode

  constructor(message: string, exitCode: ExitCode = EXIT.failed) {
    super(message)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT.usage)
