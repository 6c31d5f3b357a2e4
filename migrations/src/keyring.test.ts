import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { bootstrapProject } from "./bootstrap.ts"
import { parseRetiredKeys } from "./config.ts"
import {
  checkKeyring,
  generateEncryptionKey,
  KeyringError,
  keyFingerprint,
  keyringFromConfig,
  rotateKeys,
} from "./keyring.ts"
import type { SecretRow } from "./rows.ts"
import { createKeyring, type Keyring, openSecret, sealSecret } from "./secrets.ts"
import { createTestDatabase, type TestDatabase } from "./testing.ts"

let db: TestDatabase
let envs: string[]
beforeAll(async () => {
  db = await createTestDatabase("keyring")
  const boot = await bootstrapProject(db.sql, { slug: "keys" })
  envs = boot.environments.map((e) => e.id)
})
afterAll(() => db.drop())

const keyA = generateEncryptionKey()
const keyB = generateEncryptionKey()

async function store(keyring: Keyring, environmentId: string, name: string, value: string) {
  const s = sealSecret(keyring, environmentId, name, value)
  await db.sql`
    insert into secrets (environment_id, name, ciphertext, nonce, auth_tag, key_version)
    values (${environmentId}, ${name}, ${s.ciphertext}, ${s.nonce}, ${s.authTag}, ${s.keyVersion})
    on conflict (environment_id, name) do update set ciphertext = excluded.ciphertext,
      nonce = excluded.nonce, auth_tag = excluded.auth_tag, key_version = excluded.key_version`
}

async function reset() {
  await db.sql`delete from secrets`
  await db.sql`delete from encryption_keys`
}

const refusal = (keyring: Keyring) =>
  checkKeyring(db.sql, keyring).then(
    () => null,
    (error: unknown) => error,
  )

describe("retired keys configuration", () => {
  test.each([
    ["", {}],
    ["1:" + "ab".repeat(32), { 1: "ab".repeat(32) }],
    [` 1:${"ab".repeat(32)} , 3:${"cd".repeat(32)} `, { 1: "ab".repeat(32), 3: "cd".repeat(32) }],
    ["1:short", null],
    [`0:${"ab".repeat(32)}`, null],
    [`x:${"ab".repeat(32)}`, null],
    [`1:${"ab".repeat(32)},1:${"cd".repeat(32)}`, null],
  ])("%p", (text, expected) => {
    expect(parseRetiredKeys(text)).toEqual(expected)
  })

  test("the current version cannot also be retired", () => {
    expect(() =>
      keyringFromConfig({
        HELMR_ENCRYPTION_KEY: keyA,
        HELMR_ENCRYPTION_KEY_VERSION: 2,
        HELMR_ENCRYPTION_RETIRED_KEYS: `2:${keyB}`,
      }),
    ).toThrow(/both current and retired/)
  })

  test("a fingerprint identifies a key and is not the key", () => {
    const key = Buffer.from(keyA, "hex")
    expect(keyFingerprint(key)).toMatch(/^[0-9a-f]{64}$/)
    expect(keyFingerprint(key)).not.toContain(keyA)
    expect(keyFingerprint(key)).toBe(keyFingerprint(Buffer.from(keyA, "hex")))
    expect(keyFingerprint(Buffer.from(keyB, "hex"))).not.toBe(keyFingerprint(key))
  })
})

describe("checking the keyring against the database", () => {
  test("the first key is recorded; the same key passes again; another key is refused", async () => {
    await reset()
    await checkKeyring(db.sql, createKeyring(keyA))
    const [row] = await db.sql`select version, fingerprint from encryption_keys`
    expect(row).toEqual({ version: 1, fingerprint: keyFingerprint(Buffer.from(keyA, "hex")) })
    await checkKeyring(db.sql, createKeyring(keyA))
    const error = await refusal(createKeyring(keyB))
    expect(error).toBeInstanceOf(KeyringError)
    expect(String(error)).toContain("is not the key this database was used with")
    expect(String(error)).toContain("helmr-migrate rotate-keys")
    expect(String(error)).not.toContain(keyA)
    expect(String(error)).not.toContain(keyB)
  })

  test("a database from before fingerprints: a wrong key is refused and not recorded", async () => {
    await reset()
    await store(createKeyring(keyA), envs[0]!, "TOKEN", "value")
    await db.sql`delete from encryption_keys`
    const error = await refusal(createKeyring(keyB))
    expect(String(error)).toContain("cannot open the secrets sealed with that version")
    expect(await db.sql`select * from encryption_keys`).toHaveLength(0)
    await checkKeyring(db.sql, createKeyring(keyA))
    expect(await db.sql`select * from encryption_keys`).toHaveLength(1)
  })

  test("secrets sealed with a version the keyring lacks are named with their count", async () => {
    await reset()
    await store(createKeyring(keyA), envs[0]!, "ONE", "1")
    await store(createKeyring(keyA), envs[1]!, "TWO", "2")
    const error = await refusal(createKeyring(keyB, 2))
    expect(String(error)).toContain("2 secret(s) are sealed with encryption key version 1")
    expect(String(error)).toContain("HELMR_ENCRYPTION_RETIRED_KEYS as 1:<key>")
  })
})

describe("rotation", () => {
  test("every secret is re-sealed with the new key; the old key can then be removed", async () => {
    await reset()
    const old = createKeyring(keyA)
    await checkKeyring(db.sql, old)
    const values = new Map<string, string>()
    for (const [i, env] of envs.entries()) {
      for (const name of ["API_TOKEN", "DB_PASSWORD"]) {
        const value = `${name}-${i}-secret`
        values.set(`${env}/${name}`, value)
        await store(old, env, name, value)
      }
    }
    const both = createKeyring(keyB, 2, { 1: keyA })
    const result = await rotateKeys(db.sql, both)
    expect(result).toEqual({ resealed: { 1: values.size }, current: 2 })
    expect(await rotateKeys(db.sql, both)).toEqual({ resealed: {}, current: 2 })

    const onlyNew = createKeyring(keyB, 2)
    await checkKeyring(db.sql, onlyNew)
    const rows = await db.sql<SecretRow[]>`select * from secrets`
    expect(rows).toHaveLength(values.size)
    for (const row of rows) {
      expect(row.keyVersion).toBe(2)
      expect(openSecret(onlyNew, row.environmentId, row.name, row)).toBe(
        values.get(`${row.environmentId}/${row.name}`) ?? "missing",
      )
    }
    // Configuring the new key under the old version is refused: its secrets are all version 2 now.
    expect(String(await refusal(createKeyring(keyB, 1)))).toContain(
      `${values.size} secret(s) are sealed with encryption key version 2, which is not configured`,
    )
  })
})

describe("helmr-migrate generate-key, check-keys and rotate-keys", () => {
  const cli = join(import.meta.dir, "cli.ts")
  async function run(args: string[], env: Record<string, string>) {
    const proc = Bun.spawn(["bun", cli, ...args], {
      env: { PATH: process.env.PATH ?? "", HELMR_DATABASE_URL: db.url, ...env },
      stdout: "pipe",
      stderr: "pipe",
    })
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ])
    return { stdout, stderr, code }
  }

  test("a new key, a refused wrong key, a rotation, then the old key removed", async () => {
    await reset()
    const generated = await run(["generate-key"], {})
    expect(generated.code).toBe(0)
    expect(generated.stdout.trim()).toMatch(/^[0-9a-f]{64}$/)
    const newKey = generated.stdout.trim()

    await store(createKeyring(keyA), envs[0]!, "API_TOKEN", "t0ken")
    expect((await run(["check-keys"], { HELMR_ENCRYPTION_KEY: keyA })).code).toBe(0)

    const wrong = await run(["check-keys"], { HELMR_ENCRYPTION_KEY: newKey })
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toContain("it is not the key they were sealed with")
    expect(wrong.stderr).not.toContain(newKey)

    const rotated = await run(["rotate-keys"], {
      HELMR_ENCRYPTION_KEY: newKey,
      HELMR_ENCRYPTION_KEY_VERSION: "2",
      HELMR_ENCRYPTION_RETIRED_KEYS: `1:${keyA}`,
    })
    expect(rotated.stderr).toBe("")
    expect(rotated.stdout).toContain("1 secret(s) re-sealed with key version 2 (1 from version 1)")
    expect(rotated.code).toBe(0)

    const after = await run(["check-keys"], {
      HELMR_ENCRYPTION_KEY: newKey,
      HELMR_ENCRYPTION_KEY_VERSION: "2",
    })
    expect(after.stdout).toContain("keys: 2 match the database")
    expect(after.code).toBe(0)
    const [row] = await db.sql<SecretRow[]>`select * from secrets`
    expect(openSecret(createKeyring(newKey, 2), row!.environmentId, row!.name, row!)).toBe("t0ken")
  })
})
