import {
  defineScripts,
  readLuaScript,
  type Valkey,
  type ValkeyKeys,
} from "@helmr/migrations/valkey"
import type { Result } from "ioredis"

/**
 * Runs parked behind a full concurrency gate, in Valkey. Parking keeps the run in the run queue
 * (scored at a later recheck time, so a lost wake-up costs a delay, never the run) and records it
 * in the gate's parked set; a slot freed wakes the oldest parked run that is still queued.
 */

const PARK_RUN = readLuaScript(import.meta.dirname, "lua/park-run-2.lua", "helmrParkRun")
const WAKE_PARKED = readLuaScript(import.meta.dirname, "lua/wake-parked-2.lua", "helmrWakeParked")

declare module "ioredis" {
  interface RedisCommander<Context> {
    helmrParkRun(
      queue: string,
      parked: string,
      runId: string,
      order: number,
      recheckAt: number,
    ): Result<number, Context>
    helmrWakeParked(
      queue: string,
      parked: string,
      now: number,
      count: number,
      channel: string,
    ): Result<string[], Context>
  }
}

const define = (valkey: Valkey) => defineScripts(valkey, [PARK_RUN, WAKE_PARKED])

export async function parkRun(
  valkey: Valkey,
  keys: ValkeyKeys,
  gate: string,
  run: { id: string; createdAt: Date },
  recheckAt: number,
): Promise<void> {
  define(valkey)
  await valkey.helmrParkRun(
    keys.runQueue,
    keys.runGateParked(gate),
    run.id,
    run.createdAt.getTime(),
    recheckAt,
  )
}

/** Moves up to `count` parked runs of the gate to the front of the run queue. */
export async function wakeParked(
  valkey: Valkey,
  keys: ValkeyKeys,
  gate: string,
  count = 1,
  now = Date.now(),
): Promise<string[]> {
  define(valkey)
  return valkey.helmrWakeParked(keys.runQueue, keys.runGateParked(gate), now, count, keys.runWake)
}

/** Parked runs that got their slot (through a recheck) leave the parked set. */
export async function unparkRuns(
  valkey: Valkey,
  keys: ValkeyKeys,
  gate: string,
  runIds: readonly string[],
): Promise<void> {
  if (runIds.length > 0) await valkey.zrem(keys.runGateParked(gate), ...runIds)
}
