/** Where the CLI writes: results on stdout (for scripts), progress and errors on stderr. */
export interface Output {
  result(line: string): void
  progress(line: string): void
  error(line: string): void
}

export function processOutput(): Output {
  return {
    result: (line) => process.stdout.write(`${line}\n`),
    progress: (line) => process.stderr.write(`helmr: ${line}\n`),
    error: (line) => process.stderr.write(`${line}\n`),
  }
}
