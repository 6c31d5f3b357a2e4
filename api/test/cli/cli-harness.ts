import { type CliIo, runCli } from "../../../sdk/src/cli/main.ts"
import type { Output } from "../../../sdk/src/cli/output.ts"
import type { TestApi } from "../../src/testing.ts"

/** The CLI run in process against a listening test API, with its output captured. */
export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

export function cliFor(api: TestApi, url: string) {
  return async (
    argv: string[],
    options: {
      env?: string
      stdin?: string
      signal?: AbortSignal
      onLine?: (line: string) => void
    } = {},
  ): Promise<CliRun> => {
    const stdout: string[] = []
    const stderr: string[] = []
    const out: Output = {
      result: (line) => {
        stdout.push(line)
        options.onLine?.(line)
      },
      progress: (line) => {
        stderr.push(`helmr: ${line}`)
        options.onLine?.(line)
      },
      error: (line) => stderr.push(line),
    }
    const io: CliIo = {
      readStdin: () => Promise.resolve(options.stdin ?? ""),
      ...(options.signal ? { signal: options.signal } : {}),
    }
    const code = await runCli(
      argv,
      { HELMR_API_URL: url, HELMR_API_KEY: api.apiKeys[options.env ?? "dev"] ?? "" },
      out,
      io,
    )
    return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") }
  }
}
