import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { bootstrapProject } from "./bootstrap.ts"
import type { SecretRow } from "./rows.ts"
import { createKeyring, openSecret, SecretDecryptError, sealSecret } from "./secrets.ts"
import { createTestDatabase, type TestDatabase, testEncryptionKey } from "./testing.ts"

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase("secrets")
})
afterAll(() => db.drop())

const keyring = createKeyring(testEncryptionKey())

async function store(environmentId: string, name: string, value: string): Promise<void> {
  const s = sealSecret(keyring, environmentId, name, value)
  await db.sql`
    insert into secrets (environment_id, name, ciphertext, nonce, auth_tag, key_version)
    values (${environmentId}, ${name}, ${s.ciphertext}, ${s.nonce}, ${s.authTag}, ${s.keyVersion})`
}

async function load(environmentId: string, name: string): Promise<SecretRow> {
  const [row] = await db.sql<SecretRow[]>`
    select * from secrets where environment_id = ${environmentId} and name = ${name}`
  if (!row) throw new Error("no row")
  return row
}

describe("secrets at rest", () => {
  test("round-trip through the database; the plaintext is not stored", async () => {
    const boot = await bootstrapProject(db.sql, { slug: "sec-a" })
    const dev = boot.environments[0]!
    await store(dev.id, "OPENAI_API_KEY", "sk-very-secret-value")
    const row = await load(dev.id, "OPENAI_API_KEY")
    expect(Buffer.from(row.ciphertext).toString("utf8")).not.toContain("sk-very-secret")
    expect(row.keyVersion).toBe(1)
    expect(openSecret(keyring, dev.id, "OPENAI_API_KEY", row)).toBe("sk-very-secret-value")
    const [dump] = await db.sql<
      { text: string }[]
    >`select (select json_agg(s) from secrets s)::text as text`
    expect(dump!.text).not.toContain("sk-very-secret")
  })

  test("a row moved to another environment or renamed fails to decrypt", async () => {
    const boot = await bootstrapProject(db.sql, { slug: "sec-b" })
    const [dev, staging] = boot.environments
    await store(dev!.id, "TOKEN", "t0ken")
    await db.sql`update secrets set environment_id = ${staging!.id} where environment_id = ${dev!.id}`
    const moved = await load(staging!.id, "TOKEN")
    expect(() => openSecret(keyring, staging!.id, "TOKEN", moved)).toThrow(SecretDecryptError)
    await db.sql`update secrets set name = 'OTHER' where environment_id = ${staging!.id}`
    const renamed = await load(staging!.id, "OTHER")
    expect(() => openSecret(keyring, dev!.id, "OTHER", renamed)).toThrow(SecretDecryptError)
  })

  test("a tampered ciphertext, nonce or tag fails to decrypt", async () => {
    const sealed = sealSecret(keyring, "env_x", "A", "value")
    const flip = (b: Uint8Array) => {
      const c = Uint8Array.from(b)
      c[0] = (c[0] ?? 0) ^ 1
      return c
    }
    expect(() =>
      openSecret(keyring, "env_x", "A", { ...sealed, ciphertext: flip(sealed.ciphertext) }),
    ).toThrow(SecretDecryptError)
    expect(() =>
      openSecret(keyring, "env_x", "A", { ...sealed, nonce: flip(sealed.nonce) }),
    ).toThrow(SecretDecryptError)
    expect(() =>
      openSecret(keyring, "env_x", "A", { ...sealed, authTag: flip(sealed.authTag) }),
    ).toThrow(SecretDecryptError)
  })

  test("another key cannot open it; a retired key version still can", async () => {
    const sealed = sealSecret(keyring, "env_x", "A", "value")
    expect(() => openSecret(createKeyring(testEncryptionKey()), "env_x", "A", sealed)).toThrow(
      SecretDecryptError,
    )
    const oldKey = testEncryptionKey()
    const old = createKeyring(oldKey)
    const sealedOld = sealSecret(old, "env_x", "A", "old value")
    const rotated = createKeyring(testEncryptionKey(), 2, { 1: oldKey })
    expect(openSecret(rotated, "env_x", "A", sealedOld)).toBe("old value")
    expect(sealSecret(rotated, "env_x", "A", "new").keyVersion).toBe(2)
  })

  test("fresh nonce for every seal", () => {
    const a = sealSecret(keyring, "env_x", "A", "same")
    const b = sealSecret(keyring, "env_x", "A", "same")
    expect(Buffer.from(a.nonce).equals(Buffer.from(b.nonce))).toBe(false)
  })
})
