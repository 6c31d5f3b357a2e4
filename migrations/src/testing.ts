import { randomBytes } from "node:crypto"
import postgres from "postgres"
import { createDb, type Sql } from "./db.ts"
import { checksumOf, migrate, readMigrations } from "./migrate.ts"
import { transitionRun } from "./queries/runs.ts"
import type { RunStatus } from "./rows.ts"
import { createValkey, type Valkey } from "./valkey/client.ts"
import { type ValkeyKeys, valkeyKeys } from "./valkey/keys.ts"

/**
 * Test isolation: every test file gets its own database, cloned from a migrated template, and its
 * own Valkey key prefix. Cloning a template takes tens of milliseconds; migrating takes longer.
 */

export const TEST_ADMIN_URL =
  process.env.HELMR_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
export const TEST_VALKEY_URL = process.env.HELMR_TEST_VALKEY_URL ?? "redis://127.0.0.1:6379"

export interface TestDatabase {
  name: string
  url: string
  sql: Sql
  /** Closes the client and drops the database. */
  drop(): Promise<void>
}

function urlFor(database: string): string {
  const url = new URL(TEST_ADMIN_URL)
  url.pathname = `/${database}`
  return url.toString()
}

let templatePromise: Promise<string> | undefined

/** The template's name carries the migrations' checksum: a changed migration makes a new one. */
async function ensureTemplate(): Promise<string> {
  const files = await readMigrations()
  const digest = checksumOf(files.map((f) => `${f.name}:${f.checksum}`).join("\n")).slice(0, 16)
  const name = `helmr_tpl_${digest}`
  const admin = postgres(TEST_ADMIN_URL, { max: 1, onnotice: () => {} })
  try {
    await admin`select pg_advisory_lock(hashtext('helmr-test-template'))`
    const [exists] = await admin`select 1 from pg_database where datname = ${name}`
    if (!exists) {
      const building = `${name}_building`
      await admin.unsafe(`drop database if exists "${building}" with (force)`)
      await admin.unsafe(`create database "${building}"`)
      const sql = createDb(urlFor(building), { max: 1 })
      try {
        await migrate(sql)
      } finally {
        await sql.end()
      }
      await admin.unsafe(`alter database "${building}" rename to "${name}"`)
    }
    await admin`select pg_advisory_unlock(hashtext('helmr-test-template'))`
    return name
  } finally {
    await admin.end()
  }
}

/** Runs one statement on the maintenance database (CREATE/DROP DATABASE cannot run elsewhere). */
async function onAdmin(statement: string): Promise<void> {
  const admin = postgres(TEST_ADMIN_URL, { max: 1, onnotice: () => {} })
  try {
    await admin.unsafe(statement)
  } finally {
    await admin.end()
  }
}

/** Creates a database (empty, or cloned from `template`) with a client that drops it. */
async function openDatabase(label: string, template?: string): Promise<TestDatabase> {
  const slug = label
    .replace(/[^a-z0-9]/gi, "")
    .toLowerCase()
    .slice(0, 20)
  const name = `helmr_${slug}_${randomBytes(6).toString("hex")}`
  await onAdmin(`create database "${name}"${template ? ` template "${template}"` : ""}`)
  const url = urlFor(name)
  const sql = createDb(url, { max: 5, applicationName: `helmr-test-${slug}` })
  return {
    name,
    url,
    sql,
    async drop() {
      await sql.end({ timeout: 1 })
      await onAdmin(`drop database if exists "${name}" with (force)`)
    },
  }
}

/** A fresh, migrated database of its own. */
export async function createTestDatabase(label = "t"): Promise<TestDatabase> {
  templatePromise ??= ensureTemplate()
  return openDatabase(label, await templatePromise)
}

/** An empty database (not migrated): for testing the migrator itself. */
export function createEmptyDatabase(label = "empty"): Promise<TestDatabase> {
  return openDatabase(label)
}

export interface TestValkey {
  valkey: Valkey
  keys: ValkeyKeys
  prefix: string
  /** Deletes every key under the prefix and closes the client. */
  cleanup(): Promise<void>
}

/** A Valkey client with a key prefix of its own. */
export function createTestValkey(label = "t"): TestValkey {
  const prefix = `helmr-t-${label}-${randomBytes(4).toString("hex")}`
  const valkey = createValkey(TEST_VALKEY_URL, { name: prefix })
  return {
    valkey,
    keys: valkeyKeys(prefix),
    prefix,
    async cleanup() {
      let cursor = "0"
      do {
        const [next, found] = await valkey.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500)
        cursor = next
        if (found.length > 0) await valkey.del(...found)
      } while (cursor !== "0")
      valkey.disconnect()
    },
  }
}

/** A 32-byte test encryption key, hex. */
export function testEncryptionKey(): string {
  return randomBytes(32).toString("hex")
}

/**
 * Walks a test's run through the state machine (`transitionRun`, one move at a time) to set up a
 * status, e.g. `["starting", "running", "waiting"]` from `queued`; throws if a move does not happen.
 */
export async function walkRun(sql: Sql, runId: string, path: readonly RunStatus[]): Promise<void> {
  let [current] = await sql<{ status: RunStatus }[]>`select status from runs where id = ${runId}`
  for (const to of path) {
    if (!current) throw new Error(`run ${runId} not found`)
    const moved = await transitionRun(sql, runId, [current.status], to)
    if (!moved) throw new Error(`run ${runId} did not move from ${current.status} to ${to}`)
    current = { status: to }
  }
}
