import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto"
import { decodeKey } from "./config.ts"

/** The keys secrets are sealed with; `current` seals, every listed version opens. */
export interface Keyring {
  current: number
  keys: ReadonlyMap<number, Uint8Array>
}

export interface SealedSecret {
  ciphertext: Uint8Array
  nonce: Uint8Array
  authTag: Uint8Array
  keyVersion: number
}

export class SecretDecryptError extends Error {
  override name = "SecretDecryptError"
}

/**
 * Builds a keyring from `HELMR_ENCRYPTION_KEY` (the current key, version `currentVersion`) and any
 * retired keys still needed to open old rows.
 */
export function createKeyring(
  currentKey: string,
  currentVersion = 1,
  retired: Record<number, string> = {},
): Keyring {
  const keys = new Map<number, Uint8Array>()
  for (const [version, value] of Object.entries(retired)) {
    const key = decodeKey(value)
    if (!key) throw new Error(`encryption key version ${version} is not 32 bytes`)
    keys.set(Number(version), key)
  }
  const key = decodeKey(currentKey)
  if (!key) throw new Error("HELMR_ENCRYPTION_KEY must be 32 bytes as 64 hex characters or base64")
  keys.set(currentVersion, key)
  return { current: currentVersion, keys }
}

/** The additional data that binds a ciphertext to where it is stored. */
function boundTo(environmentId: string, name: string): Buffer {
  return Buffer.from(`helmr-secret:v1:${environmentId}:${name}`, "utf8")
}

/** AES-256-GCM with a fresh 96-bit nonce; bound to the environment and the secret's name. */
export function sealSecret(
  keyring: Keyring,
  environmentId: string,
  name: string,
  value: string,
): SealedSecret {
  const key = keyring.keys.get(keyring.current)
  if (!key) throw new Error(`keyring has no key version ${keyring.current}`)
  const nonce = randomBytes(12)
  const cipher = createCipheriv("aes-256-gcm", key, nonce)
  cipher.setAAD(boundTo(environmentId, name))
  const ciphertext = Buffer.concat([cipher.update(value, "utf8"), cipher.final()])
  return { ciphertext, nonce, authTag: cipher.getAuthTag(), keyVersion: keyring.current }
}

/** Opens a sealed secret; throws SecretDecryptError when it was tampered with or moved. */
export function openSecret(
  keyring: Keyring,
  environmentId: string,
  name: string,
  sealed: SealedSecret,
): string {
  const key = keyring.keys.get(sealed.keyVersion)
  if (!key) throw new SecretDecryptError(`secret ${name}: no key version ${sealed.keyVersion}`)
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, sealed.nonce)
    decipher.setAAD(boundTo(environmentId, name))
    decipher.setAuthTag(sealed.authTag)
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString("utf8")
  } catch {
    throw new SecretDecryptError(`secret ${name} cannot be decrypted for this environment`)
  }
}
