import { CompleteTokenBody } from "@helmr/sdk/contract"
import { Hono } from "hono"
import type { ApiDeps, AppEnv } from "../env.ts"
import { notFound } from "../errors.ts"
import { readJson } from "../http/validate.ts"
import type { RunNotifier } from "../runs/run-notifier.ts"
import { completeToken } from "../tokens/complete-token.ts"

const TOKEN_ID = /^[a-z]{1,10}_[0-9a-z]{26}$/

/** External completion of waitpoint tokens (`tokens.complete` in the client). */
export function tokensRoutes(deps: ApiDeps, notifier: RunNotifier): Hono<AppEnv> {
  return new Hono<AppEnv>().post("/tokens/:tokenId/complete", async (c) => {
    const tokenId = c.req.param("tokenId")
    if (!TOKEN_ID.test(tokenId)) throw notFound(`token ${tokenId}`)
    const body = await readJson(c, CompleteTokenBody)
    const environmentId = c.get("caller").environmentId
    return c.json(await completeToken(deps, notifier, environmentId, tokenId, body.data))
  })
}
