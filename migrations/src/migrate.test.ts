import { afterEach, describe, expect, test } from "bun:test"
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { MIGRATIONS_DIR, MigrationError, migrate, readMigrations } from "./migrate.ts"
import { createEmptyDatabase, type TestDatabase } from "./testing.ts"

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

async function emptyDb(): Promise<TestDatabase> {
  const db = await createEmptyDatabase("mig")
  cleanups.push(() => db.drop())
  return db
}

async function copyOfMigrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "helmr-mig-"))
  await cp(MIGRATIONS_DIR, dir, { recursive: true })
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

describe("migrate", () => {
  test("applies every file to an empty database, and a rerun is a no-op", async () => {
    const db = await emptyDb()
    const files = await readMigrations()
    const first = await migrate(db.sql)
    expect(first.applied).toEqual(files.map((f) => f.name))
    const tables = await db.sql<{ tablename: string }[]>`
      select tablename from pg_tables where schemaname = 'public' order by tablename`
    expect(tables.map((t) => t.tablename)).toEqual(
      expect.arrayContaining([
        "projects",
        "environments",
        "api_keys",
        "runs",
        "schedule_instances",
      ]),
    )
    const second = await migrate(db.sql)
    expect(second.applied).toEqual([])
    expect(second.skipped).toEqual(files.map((f) => f.name))
    const [{ count }] =
      (await db.sql`select count(*)::int as count from helmr_migrations`) as unknown as [
        { count: number },
      ]
    expect(count).toBe(files.length)
  })

  test("refuses an applied file whose content changed, naming it", async () => {
    const db = await emptyDb()
    const dir = await copyOfMigrations()
    await migrate(db.sql, { dir })
    const first = (await readMigrations(dir))[0]!
    await writeFile(join(dir, first.name), `${first.sql}\n-- edited\n`)
    const error = await migrate(db.sql, { dir }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    expect((error as Error).message).toContain(first.name)
    expect((error as Error).message).toContain("changed after it was applied")
  })

  test("a failing file is rolled back whole and not recorded", async () => {
    const db = await emptyDb()
    const dir = await copyOfMigrations()
    await writeFile(
      join(dir, "9999_broken.sql"),
      "create table half_written (id int);\nselect * from no_such_table;\n",
    )
    const error = await migrate(db.sql, { dir }).catch((e: unknown) => e)
    expect((error as Error).message).toContain("9999_broken.sql")
    const [table] = await db.sql`select 1 from pg_tables where tablename = 'half_written'`
    expect(table).toBeUndefined()
    const [row] = await db.sql`select 1 from helmr_migrations where name = '9999_broken.sql'`
    expect(row).toBeUndefined()
  })

  test("refuses misnamed files and duplicate numbers", async () => {
    const dir = await copyOfMigrations()
    await writeFile(join(dir, "0001_again.sql"), "select 1;")
    expect(readMigrations(dir)).rejects.toThrow("share number 0001")
    await rm(join(dir, "0001_again.sql"))
    await writeFile(join(dir, "bad name.sql"), "select 1;")
    expect(readMigrations(dir)).rejects.toThrow("must be named")
  })

  test("migrators started at once apply each file exactly once", async () => {
    const db = await emptyDb()
    const results = await Promise.all(Array.from({ length: 4 }, () => migrate(db.sql)))
    const applied = results.flatMap((r) => r.applied)
    const files = await readMigrations()
    expect(applied.sort()).toEqual(files.map((f) => f.name).sort())
    const rows = await db.sql<{ name: string }[]>`select name from helmr_migrations order by name`
    expect(rows.map((r) => r.name)).toEqual(files.map((f) => f.name))
  })

  test("separate processes migrating at once do not corrupt anything", async () => {
    const db = await emptyDb()
    const cli = join(import.meta.dir, "cli.ts")
    const procs = Array.from({ length: 3 }, () =>
      Bun.spawn(["bun", cli, "migrate"], {
        env: { ...process.env, HELMR_DATABASE_URL: db.url },
        stdout: "pipe",
        stderr: "pipe",
      }),
    )
    const codes = await Promise.all(procs.map((p) => p.exited))
    expect(codes).toEqual([0, 0, 0])
    const files = await readMigrations()
    const rows = await db.sql<{ name: string }[]>`select name from helmr_migrations order by name`
    expect(rows.map((r) => r.name)).toEqual(files.map((f) => f.name))
  })
})
