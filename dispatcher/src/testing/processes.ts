import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Subprocess } from "bun"

/**
 * Real dispatcher processes for fault tests: `bun dispatcher/main.ts` with its configuration in
 * the environment, logs in a file of their own. Tests signal them like an operator or the kernel
 * would (SIGKILL, SIGSTOP/SIGCONT, SIGTERM).
 */

const MAIN = join(import.meta.dir, "..", "..", "main.ts")
const logDir = mkdtempSync(join(tmpdir(), "i5-dispatchers-"))
let counter = 0

export interface DispatcherProcess {
  id: string
  port: number
  proc: Subprocess
  logFile: string
  /** Resolves with the exit code (or signal number + 128). */
  exited: Promise<number>
  signal(name: "SIGKILL" | "SIGSTOP" | "SIGCONT" | "SIGTERM"): void
  /** The process's Prometheus metrics (it must be running, not stopped). */
  metrics(): Promise<string>
  log(): string
}

/** A free loopback port (the dispatcher's health server needs a known one for /metrics). */
export async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
  const port = server.port
  server.stop(true)
  return port
}

export async function spawnDispatcher(env: Record<string, string>): Promise<DispatcherProcess> {
  const id = `i5-d${++counter}-${process.pid}`
  const port = await freePort()
  const logFile = join(logDir, `${id}.log`)
  const proc = Bun.spawn(["bun", MAIN], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HELMR_DISPATCHER_ID: id,
      HELMR_DISPATCHER_PORT: String(port),
      HELMR_MIGRATE_ON_START: "false",
      HELMR_LOG_LEVEL: "info",
      HELMR_DISPATCHER_DB_POOL: "3",
      ...env,
    },
    stdout: Bun.file(logFile),
    stderr: Bun.file(`${logFile}.err`),
  })
  const exited = proc.exited.then((code) => code ?? 128 + (proc.signalCode ? 9 : 0))
  return {
    id,
    port,
    proc,
    logFile,
    exited,
    signal: (name) => proc.kill(name),
    metrics: async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
    log: () => {
      const read = (file: string) => {
        try {
          return readFileSync(file, "utf8")
        } catch {
          return ""
        }
      }
      return read(logFile) + read(`${logFile}.err`)
    },
  }
}

/** Polls until the process answers /healthz. */
export async function waitHealthy(p: DispatcherProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${p.port}/healthz`)
      if (res.ok) return
    } catch {
      // not listening yet
    }
    await Bun.sleep(50)
  }
  throw new Error(`dispatcher ${p.id} not healthy within ${timeoutMs} ms:\n${p.log()}`)
}

/** Reads one counter's value (summed over labels) from Prometheus text. */
export function metricSum(text: string, name: string, labels = ""): number {
  let sum = 0
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (!(rest.startsWith("{") || rest.startsWith(" "))) continue
    if (labels && !rest.includes(labels)) continue
    sum += Number(line.split(" ").pop())
  }
  return sum
}

/** Polls `check` until it returns true; throws with `describe()` after the timeout. */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  options: { timeoutMs: number; intervalMs?: number; describe?: () => string | Promise<string> },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await Bun.sleep(options.intervalMs ?? 100)
  }
  throw new Error(`condition not met within ${options.timeoutMs} ms: ${await options.describe?.()}`)
}
