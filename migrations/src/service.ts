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

/** Postgres and Valkey reachability, for the health endpoints of every service. */
export async function checkDependencies(
  sql: Sql,
  valkey: Valkey,
): Promise<{ ok: boolean; postgres: "ok" | "down"; valkey: "ok" | "down" }> {
  const [pg, vk] = await Promise.all([
    sql`select 1`.then(
      () => "ok" as const,
      () => "down" as const,
    ),
    valkey.ping().then(
      () => "ok" as const,
      () => "down" as const,
    ),
  ])
  return { ok: pg === "ok" && vk === "ok", postgres: pg, valkey: vk }
}
