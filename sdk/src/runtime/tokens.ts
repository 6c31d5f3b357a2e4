import { defaultClient } from "../client/facade.ts"
import { type CreateTokenOptions, createTokenBody } from "../client/tokens.ts"
import type { CreatedToken, TokenCompletion } from "../contract/tokens.ts"
import { callRuntime, insideRun } from "./rpc.ts"

/**
 * The outcome of `tokens.wait`: the data the completion carried, or why there is none.
 *
 * @example
 * ```ts
 * const result: TokenWaitResult<{ approved: boolean }> = await tokens.wait(token)
 * if (result.ok) console.log(result.output.approved)
 * ```
 */
export type TokenWaitResult<T = unknown> =
  | { ok: true; id: string; output: T }
  | { ok: false; id: string; error: { name: string; message: string } }

/**
 * Waitpoint tokens: a run waits until someone completes the token with
 * `POST /api/v1/tokens/{id}/complete` (body `{ data }`), or until its timeout.
 *
 * @example
 * ```ts
 * import { tokens } from "@helmr/sdk"
 * const token = await tokens.create({ timeout: "1h" })
 * await notifyReviewer(token.url)
 * const result = await tokens.wait<{ approved: boolean }>(token)
 * if (!result.ok) throw new Error("nobody approved in time")
 * ```
 */
export const tokens = {
  /**
   * Creates a token in the run's environment (inside a run, through the runner; elsewhere with
   * the configured client). The same `idempotencyKey` returns the same token.
   *
   * @example
   * const { id, url } = await tokens.create({ timeout: "30m", tags: ["approval"] })
   */
  async create(options: CreateTokenOptions = {}): Promise<CreatedToken> {
    if (!insideRun()) return defaultClient().tokens.create(options)
    return (await callRuntime(
      "tokens.create",
      "tokens.create",
      createTokenBody(options),
    )) as CreatedToken
  },

  /**
   * Waits (durably: the run goes `waiting`) until the token is completed or times out. A token
   * completed before the wait returns at once.
   *
   * @example
   * const result = await tokens.wait(tokenId)
   * if (result.ok) console.log(result.output)
   */
  async wait<T = unknown>(token: string | { id: string }): Promise<TokenWaitResult<T>> {
    const tokenId = typeof token === "string" ? token : token.id
    return (await callRuntime("tokens.wait", "tokens.wait", { tokenId })) as TokenWaitResult<T>
  },

  /**
   * Completes a token from a service (with the configured client; not inside a run).
   *
   * @example
   * await tokens.complete(tokenId, { approved: true })
   */
  complete(tokenId: string, data?: unknown): Promise<TokenCompletion> {
    return defaultClient().tokens.complete(tokenId, data)
  },
}
