import { CompleteTokenBody } from "@helmr/sdk/contract"
import { Hono } from "hono"
import { z } from "zod"
import type { ApiDeps, AppEnv } from "../env.ts"
import { notFound } from "../errors.ts"
import { validJson, validParams } from "../http/validate.ts"
import type { RunNotifier } from "../runs/run-notifier.ts"
import { completeToken } from "../tokens/complete-token.ts"

const TOKEN_ID = /^[a-z]{1,10}_[0-9a-z]{26}$/
const TokenParams = z.object({ tokenId: z.string() })

/** External completion of waitpoint tokens (`tokens.complete` in the client). */
export function tokensRoutes(deps: ApiDeps, notifier: RunNotifier): Hono<AppEnv> {
  return new Hono<AppEnv>().post(
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
