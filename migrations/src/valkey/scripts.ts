import { readFileSync } from "node:fs"
import { join } from "node:path"
import type { Valkey } from "./client.ts"

/**
 * Lua scripts live in `.lua` files named `<name>-<number of keys>.lua` (bullmq's convention), each
 * opening with a header of its KEYS and ARGV. A script one service uses lives in that service; a
 * script several services use lives in migrations/src/valkey/lua.
 */
export interface LuaScript {
  /** The command name ioredis defines on a connection. */
  command: string
  numberOfKeys: number
  lua: string
}

/** Reads `<dir>/<file>` once (at module load of its owner); the key count comes from the name. */
export function readLuaScript(dir: string, file: string, command: string): LuaScript {
  const match = /-(\d+)\.lua$/.exec(file)
  if (!match) throw new Error(`Lua script ${file} must be named <name>-<number of keys>.lua`)
  // node:fs and import.meta.dirname, so the API also loads under Deno.
  return { command, numberOfKeys: Number(match[1]), lua: readFileSync(join(dir, file), "utf8") }
}

/**
 * Defines the scripts on a connection the first time it needs them: ioredis then sends EVALSHA,
 * falling back to EVAL once after a Valkey restart or flush (NOSCRIPT).
 */
export function defineScripts(valkey: Valkey, scripts: readonly LuaScript[]): void {
  const commands = valkey as unknown as Record<string, unknown>
  for (const script of scripts) {
    if (typeof commands[script.command] === "function") continue
    valkey.defineCommand(script.command, { numberOfKeys: script.numberOfKeys, lua: script.lua })
  }
}
