import { createToken, toCreatedToken, tokenInput } from "@helmr/migrations/queries/tokens"
import { CompleteTokenBody, CreateTokenBody } from "@helmr/sdk/contract"
import { Hono } from "hono"
import { z } from "zod"
import type { ApiDeps, AppEnv } from "../env.ts"
import { notFound } from "../errors.ts"
import { validationFailed, validJson, validParams } from "../http/validate.ts"
import type { RunNotifier } from "../runs/run-notifier.ts"
import { completeToken } from "../tokens/complete-token.ts"

const TOKEN_ID = /^[a-z]{1,10}_[0-9a-z]{26}$/
const TokenParams = z.object({ tokenId: z.string() })

/**
 * Waitpoint tokens from outside a run: create one to hand to a task (`tokens.create` in the
 * client), complete one a task waits for (`tokens.complete`).
 */
export function tokensRoutes(deps: ApiDeps, notifier: RunNotifier): Hono<AppEnv> {
  return new Hono<AppEnv>()
    .post("/tokens", validJson(CreateTokenBody), async (c) => {
      const made = tokenInput(c.get("caller").environmentId, c.req.valid("json"), new Date())
      if ("issue" in made) throw validationFailed([made.issue])
      const { token, created } = await createToken(deps.sql, made.input)
      return c.json(toCreatedToken(token, deps.publicApiUrl), created ? 201 : 200)
    })
    .post(
      "/tokens/:tokenId/complete",
      validParams(TokenParams),
      validJson(CompleteTokenBody),
      async (c) => {
        const { tokenId } = c.req.valid("param")
        if (!TOKEN_ID.test(tokenId)) throw notFound(`token ${tokenId}`)
        const body = c.req.valid("json")
        const environmentId = c.get("caller").environmentId
        return c.json(await completeToken(deps, notifier, environmentId, tokenId, body.data))
      },
    )
}
