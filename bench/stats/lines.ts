import type { Subprocess } from "bun"

/** A bench's child process that reports on stdout, one line per event. */
export interface LineProcess {
  /** Asks it to stop (SIGTERM; SIGKILL after `graceMs`), then waits for its last line. */
  stop(graceMs?: number): Promise<void>
}

/**
 * Spawns `bun <script>` with `env` (and PATH), hands every stdout line to `onLine`, and resolves
 * once it printed `ready`; rejects, naming `name`, when it exits first. Its stderr is the bench's.
 */
export async function spawnLines(
  name: string,
  script: string,
  env: Record<string, string>,
  onLine: (line: string) => void,
): Promise<LineProcess> {
  const proc: Subprocess<"ignore", "pipe", "inherit"> = Bun.spawn(["bun", script], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
  })
  let ready: () => void = () => {}
  const isReady = new Promise<void>((resolve) => {
    ready = resolve
  })
  const reading = (async () => {
    const decoder = new TextDecoder()
    let rest = ""
    const reader = proc.stdout.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      const lines = (rest + decoder.decode(value, { stream: true })).split("\n")
      rest = lines.pop() ?? ""
      for (const line of lines) {
        if (line === "ready") ready()
        else onLine(line)
      }
    }
  })()
  await Promise.race([
    isReady,
    proc.exited.then((code) => {
      throw new Error(`${name} exited with ${code}`)
    }),
  ])
  return {
    async stop(graceMs = 15_000) {
      proc.kill("SIGTERM")
      const code = await Promise.race([proc.exited, Bun.sleep(graceMs).then(() => "timeout")])
      if (code === "timeout") proc.kill("SIGKILL")
      await reading
    },
  }
}
