/** Crockford base32, lowercase: sortable as text, no ambiguous letters. */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
/** The 16 random characters' bytes; refilled (synchronously) by every newId. */
const RANDOM = new Uint8Array(16)

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
  // getRandomValues into one reused array: randomBytes allocates a Buffer per call, and its
  // iterator made an id cost microseconds on the trigger path (two ids per run).
  crypto.getRandomValues(RANDOM)
  let random = ""
  for (let i = 0; i < RANDOM.length; i++) random += ALPHABET[(RANDOM[i] as number) % 32]
  return `${prefix}_${time}${random}`
}
