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
