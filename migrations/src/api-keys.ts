import { createHash, randomBytes } from "node:crypto"

/**
 * API keys: `hk_<env>_<40 base62 characters>` (about 238 bits). Only their SHA-256 is stored; a key
 * this random needs no slow hash. Its first characters are kept so a person can recognise a key.
 */
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
const BODY_LENGTH = 40

export interface NewApiKey {
  key: string
  prefix: string
  hash: Uint8Array
}

export function generateApiKey(environmentSlug: string): NewApiKey {
  let body = ""
  while (body.length < BODY_LENGTH) {
    for (const byte of randomBytes(BODY_LENGTH)) {
      // 248 = 4 * 62: bytes above it are dropped so every character is equally likely.
      if (byte < 248 && body.length < BODY_LENGTH) body += BASE62[byte % 62]
    }
  }
  const key = `hk_${environmentSlug}_${body}`
  return { key, prefix: `hk_${environmentSlug}_${body.slice(0, 6)}`, hash: hashApiKey(key) }
}

export function hashApiKey(key: string): Uint8Array {
  return createHash("sha256").update(key, "utf8").digest()
}

/**
 * `hashApiKey` as hex, what a request's key is looked up by. On Bun its native SHA-256 (several
 * times cheaper than a node:crypto Hash object, and every API request hashes its key); elsewhere
 * (Deno, Node) node:crypto's.
 */
export function hashApiKeyHex(key: string): string {
  return typeof Bun === "undefined"
    ? createHash("sha256").update(key, "utf8").digest("hex")
    : Bun.SHA256.hash(key, "hex")
}
