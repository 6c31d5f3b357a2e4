import type { Sql } from "./db.ts"
import type { Valkey } from "./valkey/client.ts"

export interface ServiceHandle {
  /** Aborted on SIGTERM/SIGINT: every background loop watches it and drains. */
  signal: AbortSignal
  /** Resolves once shutdown was asked for. */
  stopped: Promise<string>
}

/**
 * Wires SIGTERM/SIGINT to an AbortSignal. The service's loops drain on abort; main.ts then closes
 * its clients. A second signal exits at once.
 */
export function shutdownSignal(): ServiceHandle {
  const controller = new AbortController()
  let resolve: (signal: string) => void = () => {}
  const stopped = new Promise<string>((r) => {
    resolve = r
  })
  const onSignal = (name: string) => {
    if (controller.signal.aborted) process.exit(1)
    controller.abort()
    resolve(name)
  }
  process.on("SIGTERM", () => onSignal("SIGTERM"))
  process.on("SIGINT", () => onSignal("SIGINT"))
  return { signal: controller.signal, stopped }
}

/** How long a dependency may take to answer before a health check calls it down. */
const CHECK_TIMEOUT_MS = 2_000

/** "ok" or "down" within the timeout: a dead database must not hang a health probe. */
function probe(check: () => Promise<unknown>, timeoutMs: number): Promise<"ok" | "down"> {
  return new Promise((resolve) => {
    // Whichever settles first wins; the later resolve is a no-op.
    const timer = setTimeout(() => resolve("down"), timeoutMs)
    timer.unref?.()
    // One retry: after an outage the pool may first hand out a connection the server already
    // closed, and that failure says nothing about the server now.
    check()
      .catch(() => check())
      .then(
        () => resolve("ok"),
        () => resolve("down"),
      )
  })
}

/** Postgres and Valkey reachability, for the health endpoints of every service. */
export async function checkDependencies(
  sql: Sql,
  valkey: Valkey,
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<{ ok: boolean; postgres: "ok" | "down"; valkey: "ok" | "down" }> {
  const [pg, vk] = await Promise.all([
    probe(() => sql`select 1`, timeoutMs),
    probe(() => valkey.ping(), timeoutMs),
  ])
  return { ok: pg === "ok" && vk === "ok", postgres: pg, valkey: vk }
}
