/**
 * The baseline: a bare Hono app on Bun.serve whose POST inserts one row with postgres.js and
 * answers 201 `{ id }` — no auth, no validation, no Valkey. What a trigger costs at the floor.
 * Env: BENCH_DATABASE_URL, BENCH_PORT. `GET /healthz` answers once the table exists.
 */
import { createDb } from "@helmr/migrations/db"
import { newId } from "@helmr/migrations/ids"
import { Hono } from "hono"

const url = process.env.BENCH_DATABASE_URL
if (!url) throw new Error("BENCH_DATABASE_URL is required")
const sql = createDb(url, { applicationName: "bench-baseline" })
await sql`create table if not exists bench_runs (
  id text primary key, payload jsonb, created_at timestamptz not null default now())`

const app = new Hono()
  .get("/healthz", (c) => c.text("ok"))
  .post("/trigger", async (c) => {
    const body = (await c.req.json()) as { payload?: unknown }
    const id = newId("run")
    await sql`insert into bench_runs (id, payload) values (${id}, ${sql.json((body.payload ?? null) as never)})`
    return c.json({ id }, 201)
  })

const server = Bun.serve({
  port: Number(process.env.BENCH_PORT ?? 0),
  hostname: "127.0.0.1",
  fetch: app.fetch,
})
process.once("SIGTERM", async () => {
  await server.stop()
  await sql.end({ timeout: 2 })
  process.exit(0)
})
