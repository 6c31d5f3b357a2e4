import { hashApiKey } from "@helmr/migrations/api-keys"
import type { Sql } from "@helmr/migrations/db"
import { createMiddleware } from "hono/factory"
import type { AppEnv, Caller } from "./env.ts"
import { ApiError } from "./errors.ts"

/**
 * `Authorization: Bearer <environment key>` → the caller's environment. A missing, unknown or
 * revoked key is a 401 with the same message, so a probe learns nothing about which it was.
 */
export function environmentKeyAuth(sql: Sql) {
  return createMiddleware<AppEnv>(async function environmentKeyAuth(c, next) {
    const header = c.req.header("authorization")
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null
    if (!match?.[1]) {
      throw new ApiError(401, "unauthorized", "missing API key: send Authorization: Bearer <key>")
    }
    const caller = await resolveKey(sql, match[1])
    if (!caller) throw new ApiError(401, "unauthorized", "invalid or revoked API key")
    c.set("caller", caller)
    c.set("logger", c.get("logger").child({ environmentId: caller.environmentId }))
    await next()
  })
}

async function resolveKey(sql: Sql, key: string): Promise<Caller | null> {
  if (key.length > 200) return null
  const [row] = await sql<Caller[]>`
    select k.id as key_id, e.id as environment_id, e.slug as environment_slug, e.project_id,
      e.current_deployment_id
    from api_keys k join environments e on e.id = k.environment_id
    where k.key_hash = ${hashApiKey(key)} and k.revoked_at is null`
  return row ?? null
}
