import { generateApiKey } from "@helmr/migrations/api-keys"
import { newId } from "@helmr/migrations/ids"
import type { ApiKeyRow } from "@helmr/migrations/rows"
import type { ApiDeps } from "../env.ts"
import { notFound } from "../errors.ts"

export type ApiKeyMeta = Pick<
  ApiKeyRow,
  "id" | "keyPrefix" | "createdAt" | "lastUsedAt" | "revokedAt"
>

/** The environment's keys, newest first, revoked ones included (never the key itself). */
export function listApiKeys(sql: ApiDeps["sql"], environmentId: string): Promise<ApiKeyMeta[]> {
  return sql<ApiKeyMeta[]>`
    select id, key_prefix, created_at, last_used_at, revoked_at from api_keys
    where environment_id = ${environmentId} order by created_at desc, id desc`
}

/** A new key for the environment; the key is returned once and only its hash is kept. */
export async function createApiKey(
  sql: ApiDeps["sql"],
  environment: { id: string; slug: string },
): Promise<{ id: string; key: string; prefix: string }> {
  const key = generateApiKey(environment.slug)
  const id = newId("key")
  await sql`insert into api_keys (id, environment_id, key_prefix, key_hash)
    values (${id}, ${environment.id}, ${key.prefix}, ${key.hash})`
  return { id, key: key.key, prefix: key.prefix }
}

/** Revokes the key at once (the next request with it is a 401); revoking twice is a no-op. */
export async function revokeApiKey(
  sql: ApiDeps["sql"],
  environmentId: string,
  keyId: string,
): Promise<ApiKeyMeta> {
  const [row] = await sql<ApiKeyMeta[]>`
    update api_keys set revoked_at = coalesce(revoked_at, now())
    where id = ${keyId} and environment_id = ${environmentId}
    returning id, key_prefix, created_at, last_used_at, revoked_at`
  if (!row) throw notFound(`API key ${keyId}`)
  return row
}
