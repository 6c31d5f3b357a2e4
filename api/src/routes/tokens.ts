import { createToken, toCreatedToken, tokenInput } from "@helmr/migrations/queries/tokens"
import { CompleteTokenBody, CreateTokenBody } from "@helmr/sdk/contract"
import { Hono } from "hono"
import type { ApiDeps, AppEnv } from "../env.ts"
import { notFound } from "../errors.ts"
import { readJson, validationFailed } from "../http/validate.ts"
import type { RunNotifier } from "../runs/run-notifier.ts"
import { completeToken } from "../tokens/complete-token.ts"

const TOKEN_ID = /^[a-z]{1,10}_[0-9a-z]{26}$/

/**
 * Waitpoint tokens from outside a run: create one to hand to a task (`tokens.create` in the
 * client), complete one a task waits for (`tokens.complete`).
 */
export function tokensRoutes(deps: ApiDeps, notifier: RunNotifier): Hono<AppEnv> {
  return new Hono<AppEnv>()
    .post("/tokens", async (c) => {
      const body = await readJson(c, CreateTokenBody)
      const made = tokenInput(c.get("caller").environmentId, body, new Date())
      if ("issue" in made) throw validationFailed([made.issue])
      const { token, created } = await createToken(deps.sql, made.input)
      return c.json(toCreatedToken(token, deps.publicApiUrl), created ? 201 : 200)
    })
    .post("/tokens/:tokenId/complete", async (c) => {
      const tokenId = c.req.param("tokenId")
      if (!TOKEN_ID.test(tokenId)) throw notFound(`token ${tokenId}`)
      const body = await readJson(c, CompleteTokenBody)
      const environmentId = c.get("caller").environmentId
      return c.json(await completeToken(deps, notifier, environmentId, tokenId, body.data))
    })
}
