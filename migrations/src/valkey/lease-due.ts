import type { Result } from "ioredis"
import type { Valkey } from "./client.ts"
import { defineScripts, readLuaScript } from "./scripts.ts"

// The timers set (dispatcher); the run queue has its own script, which also answers the next due
// time (run-queue.ts, lease-runs-1.lua).
const LEASE_DUE = readLuaScript(import.meta.dirname, "lua/lease-due-1.lua", "helmrLeaseDue")

declare module "ioredis" {
  interface RedisCommander<Context> {
    helmrLeaseDue(
      key: string,
      now: number,
      leaseMs: number,
      limit: number,
    ): Result<string[], Context>
  }
}

/** Leases up to `limit` members of a due-time zset due at `now`, for `leaseMs`. */
export async function leaseDue(
  valkey: Valkey,
  key: string,
  options: { now: number; leaseMs: number; limit: number },
): Promise<string[]> {
  defineScripts(valkey, [LEASE_DUE])
  return valkey.helmrLeaseDue(key, options.now, options.leaseMs, options.limit)
}
