import type { SecretRow } from "@helmr/migrations/rows"
import { sealSecret } from "@helmr/migrations/secrets"
import { PutSecretBody, SecretName } from "@helmr/sdk/contract"
import { Hono } from "hono"
import { z } from "zod"
import type { ApiDeps, AppEnv } from "../env.ts"
import { notFound } from "../errors.ts"
import { validationFailed, validJson, validParams } from "../http/validate.ts"

type SecretMeta = Pick<SecretRow, "name" | "createdAt" | "updatedAt">
const toSecret = (row: SecretMeta) => ({
  name: row.name,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
})

function secretName(name: string): string {
  if (!SecretName.safeParse(name).success) {
    throw validationFailed([{ path: "name", message: "must match ^[A-Za-z_][A-Za-z0-9_]{0,255}$" }])
  }
  return name
}

const SecretParams = z.object({ name: z.string() })

/** Secrets of the environment: values go in sealed and never come out of the API. */
export function secretsRoutes(deps: ApiDeps): Hono<AppEnv> {
  return new Hono<AppEnv>()
    .get("/secrets", async (c) => {
      const rows = await deps.sql<SecretMeta[]>`
        select name, created_at, updated_at from secrets
        where environment_id = ${c.get("caller").environmentId} order by name`
      return c.json({ data: rows.map(toSecret) })
    })
    .put("/secrets/:name", validParams(SecretParams), validJson(PutSecretBody), async (c) => {
      const name = secretName(c.req.valid("param").name)
      const { value } = c.req.valid("json")
      const environmentId = c.get("caller").environmentId
      const sealed = sealSecret(deps.keyring, environmentId, name, value)
      const [row] = await deps.sql<(SecretMeta & { created: boolean })[]>`
        insert into secrets (environment_id, name, ciphertext, nonce, auth_tag, key_version)
        values (${environmentId}, ${name}, ${sealed.ciphertext}, ${sealed.nonce},
          ${sealed.authTag}, ${sealed.keyVersion})
        on conflict (environment_id, name) do update set
          ciphertext = excluded.ciphertext, nonce = excluded.nonce, auth_tag = excluded.auth_tag,
          key_version = excluded.key_version, updated_at = now()
        returning name, created_at, updated_at, (xmax = 0) as created`
      if (!row) throw new Error("secret upsert returned no row")
      return c.json(toSecret(row), row.created ? 201 : 200)
    })
    .delete("/secrets/:name", validParams(SecretParams), async (c) => {
      const name = secretName(c.req.valid("param").name)
      const [row] = await deps.sql<{ name: string }[]>`
        delete from secrets where environment_id = ${c.get("caller").environmentId} and name = ${name}
        returning name`
      if (!row) throw notFound(`secret ${name}`)
      return c.json({ name: row.name, deleted: true as const })
    })
}
