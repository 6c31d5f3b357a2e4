import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { hashApiKey } from "./api-keys.ts"
import { bootstrapProject } from "./bootstrap.ts"
import { createTestDatabase, type TestDatabase } from "./testing.ts"

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase("bootstrap")
})
afterAll(() => db.drop())

describe("bootstrap", () => {
  test("creates dev, staging and prod with one key each, shown once", async () => {
    const boot = await bootstrapProject(db.sql, { slug: "acme", name: "Acme" })
    expect(boot.created).toBe(true)
    expect(boot.environments.map((e) => e.slug)).toEqual(["dev", "staging", "prod"])
    for (const env of boot.environments) {
      expect(env.apiKey).toMatch(new RegExp(`^hk_${env.slug}_[0-9A-Za-z]{40}$`))
      expect(env.apiKey!.startsWith(env.keyPrefix)).toBe(true)
    }
  })

  test("rerunning duplicates nothing and shows no key again", async () => {
    const first = await bootstrapProject(db.sql, { slug: "rerun" })
    const again = await bootstrapProject(db.sql, { slug: "rerun" })
    expect(again.created).toBe(false)
    expect(again.projectId).toBe(first.projectId)
    expect(again.environments.map((e) => e.id)).toEqual(first.environments.map((e) => e.id))
    expect(again.environments.every((e) => e.apiKey === null)).toBe(true)
    const [counts] = await db.sql<{ envs: number; keys: number }[]>`
      select (select count(*)::int from environments where project_id = ${first.projectId}) as envs,
             (select count(*)::int from api_keys k join environments e on e.id = k.environment_id
               where e.project_id = ${first.projectId}) as keys`
    expect(counts).toEqual({ envs: 3, keys: 3 })
  })

  test("concurrent bootstraps of one project issue one key per environment", async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, () => bootstrapProject(db.sql, { slug: "race" })),
    )
    const shown = results.flatMap((r) => r.environments.filter((e) => e.apiKey !== null))
    expect(shown).toHaveLength(3)
  })

  test("only key hashes are stored: no plaintext key anywhere in a dump", async () => {
    const boot = await bootstrapProject(db.sql, { slug: "dumped" })
    const keys = boot.environments.map((e) => e.apiKey!)
    const proc = Bun.spawn(["pg_dump", "--data-only", db.url], { stdout: "pipe", stderr: "pipe" })
    const dump = await new Response(proc.stdout).text()
    expect(await proc.exited).toBe(0)
    expect(dump.length).toBeGreaterThan(0)
    for (const key of keys) {
      expect(dump).not.toContain(key)
      expect(dump).toContain(Buffer.from(hashApiKey(key)).toString("hex"))
    }
  })

  test("the CLI prints keys once, then reports them as issued", async () => {
    const cli = join(import.meta.dir, "cli.ts")
    const run = async () => {
      const proc = Bun.spawn(["bun", cli, "bootstrap", "--project", "cli-proj"], {
        env: { ...process.env, HELMR_DATABASE_URL: db.url },
        stdout: "pipe",
        stderr: "pipe",
      })
      const out = await new Response(proc.stdout).text()
      expect(await proc.exited).toBe(0)
      return out
    }
    const first = await run()
    expect(first).toContain("created")
    expect(first.match(/hk_(dev|staging|prod)_[0-9A-Za-z]{40}/g)).toHaveLength(3)
    const second = await run()
    expect(second).toContain("already exists")
    expect(second.match(/hk_(dev|staging|prod)_[0-9A-Za-z]{40}/g)).toBeNull()
    expect(second).toContain("not shown again")
  })

  test("the CLI names a missing or bad HELMR_DATABASE_URL", async () => {
    const cli = join(import.meta.dir, "cli.ts")
    for (const value of [undefined, "mysql://nope"]) {
      const env: Record<string, string> = { PATH: process.env.PATH ?? "" }
      if (value) env.HELMR_DATABASE_URL = value
      const proc = Bun.spawn(["bun", cli, "migrate"], { env, stdout: "pipe", stderr: "pipe" })
      const err = await new Response(proc.stderr).text()
      expect(await proc.exited).toBe(2)
      expect(err).toContain("HELMR_DATABASE_URL")
    }
  })
})
