import { PutSecretBody } from "@helmr/sdk/contract"
import { Hono } from "hono"
import { z } from "zod"
import type { ApiDeps, AppEnv } from "../env.ts"
import { validJson, validParams } from "../http/validate.ts"
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

const SecretParams = z.object({ name: z.string() })

/** Secrets of the environment: values go in sealed and never come out of the API. */
export function secretsRoutes(deps: ApiDeps): Hono<AppEnv> {
  return new Hono<AppEnv>()
    .get("/secrets", async (c) => {
      const rows = await listSecrets(deps.sql, c.get("caller").environmentId)
      return c.json({ data: rows.map(toSecret) })
    })
    .put("/secrets/:name", validParams(SecretParams), validJson(PutSecretBody), async (c) => {
      const name = checkSecretName(c.req.valid("param").name)
      const { value } = c.req.valid("json")
      const { secret, created } = await putSecret(deps, c.get("caller").environmentId, name, value)
      return c.json(toSecret(secret), created ? 201 : 200)
    })
    .delete("/secrets/:name", validParams(SecretParams), async (c) => {
      const { name } = c.req.valid("param")
      await deleteSecret(deps.sql, c.get("caller").environmentId, name)
      return c.json({ name, deleted: true as const })
    })
}
