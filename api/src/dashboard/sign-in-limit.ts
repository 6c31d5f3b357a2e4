import type { Valkey, ValkeyKeys } from "@helmr/migrations/valkey"

/** Sign-in attempts allowed per email in one window, successful or not. */
export const SIGN_IN_LIMIT = 10
export const SIGN_IN_WINDOW_SECONDS = 15 * 60

/**
 * Counts a sign-in attempt for `email` (fixed window in Valkey) and says whether it may proceed,
 * and if not, in how many seconds. Counted per email, not per address: the API serves behind
 * proxies whose client address it cannot trust, and guessing one operator's password is what
 * this stops. If Valkey is down the attempt is refused (fail closed).
 */
export async function countSignInAttempt(
  valkey: Valkey,
  keys: ValkeyKeys,
  email: string,
  now: number = Date.now(),
): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
  const window = Math.floor(now / 1000 / SIGN_IN_WINDOW_SECONDS)
  const key = keys.signInAttempts(email, window)
  const results = await valkey.multi().incr(key).expire(key, SIGN_IN_WINDOW_SECONDS).exec()
  const count = Number(results?.[0]?.[1] ?? Number.POSITIVE_INFINITY)
  const retryAfterSeconds = (window + 1) * SIGN_IN_WINDOW_SECONDS - Math.floor(now / 1000)
  return { allowed: count <= SIGN_IN_LIMIT, retryAfterSeconds }
}
