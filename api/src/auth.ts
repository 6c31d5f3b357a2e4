import { hashApiKeyHex } from "@helmr/migrations/api-keys"
import type { Sql } from "@helmr/migrations/db"
import type { Context } from "hono"
import { createMiddleware } from "hono/factory"
import type { AppEnv, Caller } from "./env.ts"
import { ApiError } from "./errors.ts"
import { groupQueue } from "./http/group-queue.ts"

/** Only a trigger may use a cached key: its insert re-checks the key and the deployment. */
const TRIGGER_PATH = /^\/api\/v1\/tasks\/[^/]+\/trigger$/

/**
 * `Authorization: Bearer <environment key>` → the caller's environment. A missing, unknown or
 * revoked key is a 401 with the same message, so a probe learns nothing about which it was.
 *
 * Every request but a trigger resolves its key afresh (concurrent requests share one lookup,
 * sent after each of them arrived), so a revoked key is refused from the revocation's commit on.
 * A trigger takes the key from the cache: its insert is guarded (`insertRuns`' `guard`) and
 * refuses a revoked key or a deployment no longer current in the same statement, so the cache
 * saves a round trip without ever letting a stale key or deployment through.
 */
export function environmentKeyAuth(keys: KeyResolver) {
  return createMiddleware<AppEnv>(async function environmentKeyAuth(c, next) {
    const token = bearerToken(c)
    if (token === undefined) {
      throw new ApiError(401, "unauthorized", "missing API key: send Authorization: Bearer <key>")
    }
    const cached = c.req.method === "POST" && TRIGGER_PATH.test(c.req.path)
    const caller = cached ? await keys.resolveCached(token) : await keys.resolve(token)
    if (!caller) throw unauthorized()
    c.set("caller", caller)
    // The request's own logger (requestContext's child) gains the binding: a child of a child
    // costs pino several times a first child, on every request.
    c.get("logger").setBindings({ environmentId: caller.environmentId })
    await next()
  })
}

export const unauthorized = () => new ApiError(401, "unauthorized", "invalid or revoked API key")

/** The bearer token of the request, if it sent one. */
export function bearerToken(c: Context): string | undefined {
  const header = c.req.header("authorization")
  return (header ? /^Bearer\s+(\S+)$/i.exec(header) : null)?.[1]
}

/** Key → caller: fresh (one query for every key asked for meanwhile) or from a small cache. */
export class KeyResolver {
  readonly #lookUp: (hash: string) => Promise<Caller | null>
  readonly #cache = new Map<string, { caller: Caller; at: number }>()

  constructor(
    sql: Sql,
    private readonly options: { maxEntries?: number; maxAgeMs?: number } = {},
  ) {
    this.#lookUp = groupQueue(async (wanted: string[]) => {
      const rows = await sql<(Caller & { hash: string })[]>`
        select encode(k.key_hash, 'hex') as hash, k.id as key_id, e.id as environment_id,
          e.slug as environment_slug, e.project_id, e.current_deployment_id
        from api_keys k join environments e on e.id = k.environment_id
        where k.key_hash in (select decode(h, 'hex') from unnest(${[...new Set(wanted)]}::text[]) as h)
          and k.revoked_at is null`
      const byHash = new Map(rows.map(({ hash, ...caller }) => [hash, caller as Caller]))
      return wanted.map((hash) => byHash.get(hash) ?? null)
    })
  }

  /** The key's caller as the database has it now; null when unknown or revoked. */
  async resolve(key: string): Promise<Caller | null> {
    if (key.length > 200) return null
    const hash = hashApiKeyHex(key)
    const caller = await this.#lookUp(hash)
    if (caller) this.#remember(hash, caller)
    else this.#cache.delete(hash)
    // A copy each: callers sharing a lookup must not share one object.
    return caller ? { ...caller } : null
  }

  /** The key's caller, from the cache when seen lately (for guarded writes only). */
  async resolveCached(key: string): Promise<Caller | null> {
    if (key.length > 200) return null
    const entry = this.#cache.get(hashApiKeyHex(key))
    if (entry && performance.now() - entry.at < (this.options.maxAgeMs ?? 60_000)) {
      return { ...entry.caller }
    }
    return this.resolve(key)
  }

  /** Drops a key from the cache (its guarded write was refused). */
  forget(key: string): void {
    this.#cache.delete(hashApiKeyHex(key))
  }

  #remember(hash: string, caller: Caller): void {
    if (this.#cache.size >= (this.options.maxEntries ?? 10_000) && !this.#cache.has(hash)) {
      const oldest = this.#cache.keys().next().value
      if (oldest !== undefined) this.#cache.delete(oldest)
    }
    this.#cache.set(hash, { caller, at: performance.now() })
  }
}
