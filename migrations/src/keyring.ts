import { createHmac, randomBytes } from "node:crypto"
import { ConfigError, parseRetiredKeys } from "./config.ts"
import type { Sql } from "./db.ts"
import type { SecretRow } from "./rows.ts"
import {
  createKeyring,
  type Keyring,
  openSecret,
  SecretDecryptError,
  sealSecret,
} from "./secrets.ts"

/**
 * The operator's side of the keyring: which key a database was used with, detecting a key that
 * does not match at start, and re-sealing every secret with the current key so an old one can go.
 */

/** A configuration error: services print it and exit 2, like a bad variable. */
export class KeyringError extends ConfigError {
  override name = "KeyringError"
}

const FIX =
  "Set HELMR_ENCRYPTION_KEY to the key this database was used with. To change keys, give the new " +
  "key a new HELMR_ENCRYPTION_KEY_VERSION, keep the old one in HELMR_ENCRYPTION_RETIRED_KEYS " +
  "(version:key), and run `helmr-migrate rotate-keys` (docs/self-hosting.md, Encryption keys)."

/** Identifies a key without revealing it: HMAC-SHA256 under the key of a fixed text, hex. */
export function keyFingerprint(key: Uint8Array): string {
  return createHmac("sha256", key).update("helmr-key-fingerprint:v1").digest("hex")
}

/** A new random 256-bit key, as 64 hex characters (the form HELMR_ENCRYPTION_KEY takes). */
export function generateEncryptionKey(): string {
  return randomBytes(32).toString("hex")
}

export interface KeyringConfig {
  HELMR_ENCRYPTION_KEY: string
  HELMR_ENCRYPTION_KEY_VERSION: number
  HELMR_ENCRYPTION_RETIRED_KEYS: string
}

/** The keyring a service's parsed configuration describes (see `keyringFields`). */
export function keyringFromConfig(config: KeyringConfig): Keyring {
  const retired = parseRetiredKeys(config.HELMR_ENCRYPTION_RETIRED_KEYS)
  if (!retired) throw new KeyringError("HELMR_ENCRYPTION_RETIRED_KEYS is malformed")
  if (config.HELMR_ENCRYPTION_KEY_VERSION in retired) {
    throw new KeyringError(
      `key version ${config.HELMR_ENCRYPTION_KEY_VERSION} is both current and retired`,
    )
  }
  return createKeyring(config.HELMR_ENCRYPTION_KEY, config.HELMR_ENCRYPTION_KEY_VERSION, retired)
}

/**
 * Checks the keyring against the database before a service uses it, and records the fingerprint
 * of every version the database has not seen yet. Refused, naming cause and fix: a key whose
 * fingerprint differs from the one recorded for its version; a key that cannot open a secret sealed
 * with its version (databases from before fingerprints were kept); secrets sealed with a version
 * the keyring lacks.
 */
export async function checkKeyring(sql: Sql, keyring: Keyring): Promise<void> {
  // Secrets first: a wrong key must be refused before its fingerprint could be recorded.
  await checkSealedSecrets(sql, keyring)
  for (const [version, key] of keyring.keys) {
    await sql`insert into encryption_keys (version, fingerprint)
      values (${version}, ${keyFingerprint(key)}) on conflict (version) do nothing`
  }
  // Read back after inserting: of two services started with different keys, the second loses here.
  const known = await sql<{ version: number; fingerprint: string }[]>`
    select version, fingerprint from encryption_keys`
  for (const row of known) {
    const key = keyring.keys.get(row.version)
    if (!key) continue
    const fingerprint = keyFingerprint(key)
    if (fingerprint !== row.fingerprint) {
      throw new KeyringError(
        `the configured encryption key version ${row.version} (fingerprint ${fingerprint.slice(0, 12)}) ` +
          `is not the key this database was used with (fingerprint ${row.fingerprint.slice(0, 12)}): ` +
          `it was regenerated or belongs to another installation, so no secret sealed with it ` +
          `would open. ${FIX}`,
      )
    }
  }
}

/** One secret of each key version in use must open with the keyring. */
async function checkSealedSecrets(sql: Sql, keyring: Keyring): Promise<void> {
  const samples = await sql<SecretRow[]>`
    select distinct on (key_version) * from secrets order by key_version, environment_id, name`
  for (const sample of samples) {
    if (!keyring.keys.has(sample.keyVersion)) {
      const [{ count } = { count: 0 }] = await sql<{ count: number }[]>`
        select count(*)::int as count from secrets where key_version = ${sample.keyVersion}`
      throw new KeyringError(
        `${count} secret(s) are sealed with encryption key version ${sample.keyVersion}, which ` +
          `is not configured. Add it to HELMR_ENCRYPTION_RETIRED_KEYS as ${sample.keyVersion}:<key>. ${FIX}`,
      )
    }
    try {
      openSecret(keyring, sample.environmentId, sample.name, sample)
    } catch (error) {
      if (!(error instanceof SecretDecryptError)) throw error
      throw new KeyringError(
        `the configured encryption key version ${sample.keyVersion} cannot open the secrets ` +
          `sealed with that version in this database: it is not the key they were sealed with. ${FIX}`,
      )
    }
  }
}

export interface RotationResult {
  /** Secrets re-sealed with the current key, by the version they were sealed with before. */
  resealed: Record<number, number>
  current: number
}

/**
 * Re-seals every secret not sealed with the current key, in one transaction (a secret written
 * meanwhile waits on its row lock). Afterwards the retired keys open nothing and can be removed.
 */
export async function rotateKeys(sql: Sql, keyring: Keyring): Promise<RotationResult> {
  await checkKeyring(sql, keyring)
  return sql.begin(async (tx) => {
    const rows = await tx<SecretRow[]>`
      select * from secrets where key_version <> ${keyring.current}
      order by environment_id, name for update`
    const resealed: Record<number, number> = {}
    for (const row of rows) {
      const value = openSecret(keyring, row.environmentId, row.name, row)
      const sealed = sealSecret(keyring, row.environmentId, row.name, value)
      await tx`update secrets set ciphertext = ${sealed.ciphertext}, nonce = ${sealed.nonce},
          auth_tag = ${sealed.authTag}, key_version = ${sealed.keyVersion}, updated_at = now()
        where environment_id = ${row.environmentId} and name = ${row.name}`
      resealed[row.keyVersion] = (resealed[row.keyVersion] ?? 0) + 1
    }
    return { resealed, current: keyring.current }
  })
}
