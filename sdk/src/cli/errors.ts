/** An error the CLI prints as `helmr: error: …` and exits with, never with a stack trace. */
export class CliError extends Error {
  override name = "CliError"
  constructor(
    message: string,
    /** 2 for usage errors (bad flags), 1 for everything else. */
    readonly exitCode = 1,
    /** Extra lines printed under the message (e.g. the API's field issues). */
    readonly details: readonly string[] = [],
  ) {
    super(message)
  }
}

export const usageError = (message: string, hint: string): CliError =>
  new CliError(`${message}\n${hint}`, 2)
