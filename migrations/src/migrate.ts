import { createHash } from "node:crypto"
import { readdir, readFile } from "node:fs/promises"
import { join } from "node:path"
import type { Sql } from "./db.ts"

/** Where the numbered SQL files live. */
// import.meta.dirname and node:fs, not Bun.file: the API also runs (and migrates) on Deno.
export const MIGRATIONS_DIR = join(import.meta.dirname, "..", "sql")

/** One lock id for every Helmr migrator, whatever database it runs against. */
const LOCK_ID = 0x48454c4d // "HELM"

const FILE_NAME = /^(\d{4})_[a-z0-9_]+\.sql$/

export interface MigrationFile {
  name: string
  checksum: string
  sql: string
}

export class MigrationError extends Error {
  override name = "MigrationError"
}

export interface MigrateResult {
  applied: string[]
  skipped: string[]
}

/** Reads the migration files in order; refuses misnamed files and duplicate numbers. */
export async function readMigrations(dir: string = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".sql")).sort()
  const seen = new Map<string, string>()
  const files: MigrationFile[] = []
  for (const name of names) {
    const match = FILE_NAME.exec(name)
    if (!match) throw new MigrationError(`migration file ${name} must be named NNNN_snake_case.sql`)
    const number = match[1] as string
    const other = seen.get(number)
    if (other) throw new MigrationError(`migrations ${other} and ${name} share number ${number}`)
    seen.set(number, name)
    const sql = await readFile(join(dir, name), "utf8")
    files.push({ name, sql, checksum: checksumOf(sql) })
  }
  return files
}

export function checksumOf(sql: string): string {
  return createHash("sha256").update(sql).digest("hex")
}

/**
 * Applies every migration not yet in the ledger, each in its own transaction, under a session
 * advisory lock so that migrators started at once run one after another. An applied file whose
 * checksum changed is refused: migrations are append-only.
 */
export async function migrate(
  sql: Sql,
  options: { dir?: string; log?: (line: string) => void } = {},
): Promise<MigrateResult> {
  const files = await readMigrations(options.dir)
  const log = options.log ?? (() => {})
  const conn = await sql.reserve()
  try {
    await conn`select pg_advisory_lock(${LOCK_ID})`
    try {
      await conn.unsafe(`
        create table if not exists helmr_migrations (
          name text primary key,
          checksum text not null,
          applied_at timestamptz not null default now()
        )`)
      const rows = await conn<{ name: string; checksum: string }[]>`
        select name, checksum from helmr_migrations order by name`
      const ledger = new Map(rows.map((r) => [r.name, r.checksum]))
      for (const name of ledger.keys()) {
        if (!files.some((f) => f.name === name)) {
          throw new MigrationError(`migration ${name} was applied but its file is missing`)
        }
      }
      const result: MigrateResult = { applied: [], skipped: [] }
      for (const file of files) {
        const applied = ledger.get(file.name)
        if (applied !== undefined) {
          if (applied !== file.checksum) {
            throw new MigrationError(
              `migration ${file.name} was changed after it was applied ` +
                `(checksum ${applied.slice(0, 12)}… in the database, ${file.checksum.slice(0, 12)}… on disk); ` +
                "migrations are append-only: restore the file and add a new one",
            )
          }
          result.skipped.push(file.name)
          continue
        }
        await conn.unsafe("begin")
        try {
          await conn.unsafe(file.sql)
          await conn`insert into helmr_migrations (name, checksum) values (${file.name}, ${file.checksum})`
          await conn.unsafe("commit")
        } catch (error) {
          await conn.unsafe("rollback")
          const message = error instanceof Error ? error.message : String(error)
          throw new MigrationError(`migration ${file.name} failed: ${message}`)
        }
        result.applied.push(file.name)
        log(`applied ${file.name}`)
      }
      return result
    } finally {
      await conn`select pg_advisory_unlock(${LOCK_ID})`
    }
  } finally {
    conn.release()
  }
}
