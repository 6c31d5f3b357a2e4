import { PutSecretBody } from "@helmr/sdk/contract"
import { Hono } from "hono"
import type { ApiDeps, AppEnv } from "../env.ts"
import { readJson } from "../http/validate.ts"
import {
  checkSecretName,
  deleteSecret,
  listSecrets,
  putSecret,
  type SecretMeta,
} from "../secrets/secret-store.ts"

const toSecret = (row: SecretMeta) => ({
  name: row.name,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
})

/** Secrets of the environment: values go in sealed and never come out of the API. */
export function secretsRoutes(deps: ApiDeps): Hono<AppEnv> {
  return new Hono<AppEnv>()
    .get("/secrets", async (c) => {
      const rows = await listSecrets(deps.sql, c.get("caller").environmentId)
      return c.json({ data: rows.map(toSecret) })
    })
    .put("/secrets/:name", async (c) => {
      // The name first: a bad name is refused before the body is read.
      const name = checkSecretName(c.req.param("name"))
      const { value } = await readJson(c, PutSecretBody)
      const { secret, created } = await putSecret(deps, c.get("caller").environmentId, name, value)
      return c.json(toSecret(secret), created ? 201 : 200)
    })
    .delete("/secrets/:name", async (c) => {
      const name = c.req.param("name")
      await deleteSecret(deps.sql, c.get("caller").environmentId, name)
      return c.json({ name, deleted: true as const })
    })
}
