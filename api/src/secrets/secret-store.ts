import type { SecretRow } from "@helmr/migrations/rows"
import { sealSecret } from "@helmr/migrations/secrets"
import { SecretName } from "@helmr/sdk/contract"
import type { ApiDeps } from "../env.ts"
import { notFound } from "../errors.ts"
import { validationFailed } from "../http/validate.ts"

/** Secrets of an environment: values go in sealed and never come out. Shared by the HTTP API and
 * the dashboard. */

export type SecretMeta = Pick<SecretRow, "name" | "createdAt" | "updatedAt">

/** The name, or a 422 naming the field. */
export function checkSecretName(name: string): string {
  if (!SecretName.safeParse(name).success) {
    throw validationFailed([{ path: "name", message: "must match ^[A-Za-z_][A-Za-z0-9_]{0,255}$" }])
  }
  return name
}

export function listSecrets(sql: ApiDeps["sql"], environmentId: string): Promise<SecretMeta[]> {
  return sql<SecretMeta[]>`
    select name, created_at, updated_at from secrets
    where environment_id = ${environmentId} order by name`
}

/** Creates or replaces the secret's value. */
export async function putSecret(
  deps: Pick<ApiDeps, "sql" | "keyring">,
  environmentId: string,
  name: string,
  value: string,
): Promise<{ secret: SecretMeta; created: boolean }> {
  const sealed = sealSecret(deps.keyring, environmentId, checkSecretName(name), value)
  const [row] = await deps.sql<(SecretMeta & { created: boolean })[]>`
    insert into secrets (environment_id, name, ciphertext, nonce, auth_tag, key_version)
    values (${environmentId}, ${name}, ${sealed.ciphertext}, ${sealed.nonce},
      ${sealed.authTag}, ${sealed.keyVersion})
    on conflict (environment_id, name) do update set
      ciphertext = excluded.ciphertext, nonce = excluded.nonce, auth_tag = excluded.auth_tag,
      key_version = excluded.key_version, updated_at = now()
    returning name, created_at, updated_at, (xmax = 0) as created`
  if (!row) throw new Error("secret upsert returned no row")
  const { created, ...secret } = row
  return { secret, created }
}

/** Deletes the secret; 404 when the environment has none of that name. */
export async function deleteSecret(
  sql: ApiDeps["sql"],
  environmentId: string,
  name: string,
): Promise<void> {
  const [row] = await sql<{ name: string }[]>`
    delete from secrets where environment_id = ${environmentId} and name = ${checkSecretName(name)}
    returning name`
  if (!row) throw notFound(`secret ${name}`)
}
