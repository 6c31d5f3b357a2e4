import type { Subprocess } from "bun"
import type { Start } from "./results.ts"

/** The starts a peer's worker process (worker.ts) reported, as its lines come in. */
export interface WorkerProcess {
  /** Every job start (see OnStart), `at` in epoch ms. */
  starts: Start[]
  stop(): Promise<void>
}

export async function startWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const proc: Subprocess<"ignore", "pipe", "inherit"> = Bun.spawn(
    ["bun", new URL("./worker.ts", import.meta.url).pathname],
    {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "inherit",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    },
  )
  const starts: WorkerProcess["starts"] = []
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
        const [word, due, at, schedule] = line.split(" ")
        if (word === "start" && due && at && schedule) {
          starts.push({
            due: due === "-" ? undefined : Number(due),
            at: Number(at),
            schedule: schedule === "-" ? undefined : Number(schedule),
          })
        }
      }
    }
  })()
  await Promise.race([
    isReady,
    proc.exited.then((code) => {
      throw new Error(`${env.PEER} worker exited with ${code}`)
    }),
  ])
  return {
    starts,
    async stop() {
      proc.kill("SIGTERM")
      const code = await Promise.race([proc.exited, Bun.sleep(15_000).then(() => "timeout")])
      if (code === "timeout") proc.kill("SIGKILL")
      await reading
    },
  }
}
