import { chownSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createDb, type Sql } from "@helmr/migrations/db"
import { migrate } from "@helmr/migrations/migrate"
import { createValkey, type Valkey } from "@helmr/migrations/valkey"
import { freePort } from "./processes.ts"

/**
 * Servers of a test's own, for faults that would hurt everyone else on the shared ones: FLUSHALL
 * on a private Valkey (redis-server), a real stop/start of a private Postgres cluster.
 */

export interface PrivateValkey {
  url: string
  client: Valkey
  stop(): Promise<void>
}

export async function startPrivateValkey(): Promise<PrivateValkey> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), "i5-valkey-"))
  const bin = Bun.which("valkey-server") ?? Bun.which("redis-server") ?? "redis-server"
  const proc = Bun.spawn(
    [bin, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { cwd: dir, stdout: "ignore", stderr: "ignore" },
  )
  const url = `redis://127.0.0.1:${port}`
  const client = createValkey(url, { name: "i5-test" })
  // Refused connections while the server starts are expected; the loop below retries.
  client.on("error", () => {})
  const deadline = Date.now() + 15_000
  for (;;) {
    try {
      if ((await client.ping()) === "PONG") break
    } catch (error) {
      if (Date.now() > deadline) throw error
    }
    await Bun.sleep(50)
  }
  return {
    url,
    client,
    async stop() {
      client.disconnect()
      proc.kill("SIGKILL")
      await proc.exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

const PG_BIN = "/usr/lib/postgresql/15/bin"

export interface PrivatePostgres {
  url: string
  sql: Sql
  /** Stops the server (fast shutdown: every connection is cut). */
  stop(): Promise<void>
  start(): Promise<void>
  destroy(): Promise<void>
}

async function asPostgres(args: string[]): Promise<void> {
  // initdb and postgres refuse to run as root.
  const cmd = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--", ...args] : args
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" })
  const code = await proc.exited
  if (code !== 0) {
    throw new Error(`${args.join(" ")} failed (${code}): ${await new Response(proc.stderr).text()}`)
  }
}

/** A throwaway Postgres cluster on a free port, migrated. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), "i5-pg-"))
  if (process.getuid?.() === 0) {
    const [uid, gid] = await Promise.all([idOf("-u"), idOf("-g")])
    chownSync(dir, uid, gid)
  }
  const data = join(dir, "data")
  const port = await freePort()
  await asPostgres([`${PG_BIN}/initdb`, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"])
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60`
  const start = () =>
    asPostgres([
      `${PG_BIN}/pg_ctl`,
      "-D",
      data,
      "-o",
      options,
      "-l",
      join(dir, "log"),
      "-w",
      "-t",
      "60",
      "start",
    ])
  await start()
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  const sql = createDb(url, { max: 4, applicationName: "i5-test" })
  await migrate(sql)
  return {
    url,
    sql,
    stop: () =>
      asPostgres([`${PG_BIN}/pg_ctl`, "-D", data, "-m", "fast", "-w", "-t", "60", "stop"]),
    start,
    async destroy() {
      await sql.end({ timeout: 1 })
      await asPostgres([`${PG_BIN}/pg_ctl`, "-D", data, "-m", "immediate", "-w", "stop"]).catch(
        () => {},
      )
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function idOf(flag: "-u" | "-g"): Promise<number> {
  const proc = Bun.spawn(["id", flag, "postgres"], { stdout: "pipe" })
  return Number((await new Response(proc.stdout).text()).trim())
}
