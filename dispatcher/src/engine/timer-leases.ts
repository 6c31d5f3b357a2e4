import {
  defineScripts,
  readLuaScript,
  type Valkey,
  type ValkeyKeys,
} from "@helmr/migrations/valkey"
import type { Result } from "ioredis"

// The dispatcher alone completes timer leases; leasing itself is the shared lease-due script.
const REMOVE_LEASED_TIMER = readLuaScript(
  import.meta.dirname,
  "lua/remove-leased-timer-1.lua",
  "helmrRemoveLeasedTimer",
)

declare module "ioredis" {
  interface RedisCommander<Context> {
    helmrRemoveLeasedTimer(timers: string, score: number, member: string): Result<number, Context>
  }
}

/** Removes a timer handled under a lease ending at `deadline`, unless it was put again since. */
export async function removeLeasedTimer(
  valkey: Valkey,
  keys: ValkeyKeys,
  member: string,
  deadline: number,
): Promise<boolean> {
  defineScripts(valkey, [REMOVE_LEASED_TIMER])
  return (await valkey.helmrRemoveLeasedTimer(keys.timers, deadline, member)) === 1
}
