import { readFileSync } from "node:fs"
import { cpus, totalmem } from "node:os"
import { createDb } from "@helmr/migrations/db"
import { TEST_ADMIN_URL, TEST_VALKEY_URL } from "@helmr/migrations/testing"
import { createValkey } from "@helmr/migrations/valkey"
import { peerVersion } from "./run-peer.ts"

/** The machine and versions bench/peers ran on, as (what, value) pairs for the docs. */
export async function environment(): Promise<[string, string][]> {
  const sql = createDb(TEST_ADMIN_URL, { max: 1, applicationName: "bench-peers-info" })
  const [pg] = await sql<{ version: string; sync: string }[]>`
    select current_setting('server_version') as version,
      current_setting('synchronous_commit') as sync`
  await sql.end()
  const valkey = createValkey(TEST_VALKEY_URL, { name: "bench-peers-info" })
  const info = await valkey.info("server")
  valkey.disconnect()
  const server = (name: string) => new RegExp(`^${name}:(.+)$`, "m").exec(info)?.[1]?.trim()
  const kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim()
  const cpu = `${cpus().length} cores (${cpus()[0]?.model ?? "?"})`
  return [
    ["CPU", `${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${kernel}`],
    ["Bun", Bun.version],
    ["Postgres", `${pg?.version}, synchronous_commit ${pg?.sync}, same machine`],
    ["Valkey / Redis", `${server("valkey_version") ?? server("redis_version")}, same machine`],
    ["BullMQ", peerVersion("bullmq")],
    ["pg-boss", peerVersion("pg-boss")],
    ["graphile-worker", peerVersion("graphile-worker")],
  ]
}
