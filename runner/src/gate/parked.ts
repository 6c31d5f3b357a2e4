import type { Valkey, ValkeyKeys } from "@helmr/migrations/valkey"
import type { Result } from "ioredis"

/**
 * Runs parked behind a full concurrency gate, in Valkey. Parking keeps the run in the run queue
 * (scored at a later recheck time, so a lost wake-up costs a delay, never the run) and records it
 * in the gate's parked set; a slot freed wakes the oldest parked run that is still queued.
 */

// KEYS[1] run queue, KEYS[2] parked set; ARGV[1] run id, ARGV[2] order (ms), ARGV[3] recheck ms.
const PARK = `
redis.call('ZADD', KEYS[2], tonumber(ARGV[2]), ARGV[1])
redis.call('ZADD', KEYS[1], 'XX', tonumber(ARGV[3]), ARGV[1])
return 1
`

// KEYS[1] run queue, KEYS[2] parked set; ARGV[1] now ms, ARGV[2] how many.
// Pops parked runs oldest first; one no longer in the run queue (canceled, expired) is dropped
// and does not use up the wake-up. Returns the run ids moved to the front of the queue.
const WAKE = `
local woken = {}
while #woken < tonumber(ARGV[2]) do
  local top = redis.call('ZPOPMIN', KEYS[2])
  if #top == 0 then break end
  if redis.call('ZSCORE', KEYS[1], top[1]) then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]), top[1])
    woken[#woken + 1] = top[1]
  end
end
return woken
`

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
    ): Result<string[], Context>
  }
}

function define(valkey: Valkey): void {
  if (typeof valkey.helmrParkRun === "function") return
  valkey.defineCommand("helmrParkRun", { numberOfKeys: 2, lua: PARK })
  valkey.defineCommand("helmrWakeParked", { numberOfKeys: 2, lua: WAKE })
}

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
  return valkey.helmrWakeParked(keys.runQueue, keys.runGateParked(gate), now, count)
}

/** A parked run that got its slot (through a recheck) leaves the parked set. */
export async function unparkRun(
  valkey: Valkey,
  keys: ValkeyKeys,
  gate: string,
  runId: string,
): Promise<void> {
  await valkey.zrem(keys.runGateParked(gate), runId)
}
