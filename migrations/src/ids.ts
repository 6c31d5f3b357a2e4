import { randomBytes } from "node:crypto"

/** Crockford base32, lowercase: sortable as text, no ambiguous letters. */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"

export type IdPrefix =
  | "proj"
  | "env"
  | "key"
  | "dep"
  | "sched"
  | "schedi"
  | "sess"
  | "run"
  | "wp"
  | "tok"
  | "op"
  | "opsess"

/**
 * A new public id: `<prefix>_` + 10 characters of millisecond time + 16 random characters.
 * Ids made later sort after ids made earlier, which keeps cursor pagination and indexes cheap.
 */
export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  let time = ""
  let t = now
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time
    t = Math.floor(t / 32)
  }
  const bytes = randomBytes(16)
  let random = ""
  for (const byte of bytes) random += ALPHABET[byte % 32]
  return `${prefix}_${time}${random}`
}
