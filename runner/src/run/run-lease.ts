import {
  defineScripts,
  readLuaScript,
  type Valkey,
  type ValkeyKeys,
} from "@helmr/migrations/valkey"
import type { Result } from "ioredis"

// The runner alone extends run leases (its heartbeat); leasing itself is the shared lease-due
// script behind leaseRuns.
const EXTEND_RUN_LEASE = readLuaScript(
  import.meta.dirname,
  "lua/extend-run-lease-1.lua",
  "helmrExtendRunLease",
)

declare module "ioredis" {
  interface RedisCommander<Context> {
    helmrExtendRunLease(
      queue: string,
      deadline: number,
      ...runIds: string[]
    ): Result<number, Context>
  }
}

/** Heartbeat: pushes the lease deadline out; false when the entry is gone. */
export async function extendRunLease(
  valkey: Valkey,
  keys: ValkeyKeys,
  runId: string,
  leaseMs: number,
  now: number = Date.now(),
): Promise<boolean> {
  defineScripts(valkey, [EXTEND_RUN_LEASE])
  return (await valkey.helmrExtendRunLease(keys.runQueue, now + leaseMs, runId)) === 1
}

/** extendRunLease for many runs in one round trip (a claimed batch); returns how many were extended. */
export async function extendRunLeases(
  valkey: Valkey,
  keys: ValkeyKeys,
  runIds: readonly string[],
  leaseMs: number,
  now: number = Date.now(),
): Promise<number> {
  if (runIds.length === 0) return 0
  defineScripts(valkey, [EXTEND_RUN_LEASE])
  return valkey.helmrExtendRunLease(keys.runQueue, now + leaseMs, ...runIds)
}
