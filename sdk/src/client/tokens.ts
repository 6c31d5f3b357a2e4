import type { CreatedToken, CreateTokenBody, TokenCompletion } from "../contract/tokens.ts"
import { CreatedTokenAnswer, TokenCompletionAnswer } from "./answers.ts"
import type { Transport } from "./transport.ts"

/**
 * Token creation options as the client takes them: `timeout` may also be a Date.
 *
 * @example
 * const options: CreateTokenOptions = { timeout: new Date(Date.now() + 3_600_000), tags: ["pr"] }
 */
export type CreateTokenOptions = Omit<CreateTokenBody, "timeout"> & { timeout?: string | Date }

/**
 * The wire body of a token create (Dates become ISO strings).
 *
 * @example
 * createTokenBody({ timeout: "1h" }) // { timeout: "1h" }
 */
export function createTokenBody(options: CreateTokenOptions): CreateTokenBody {
  const { timeout, ...rest } = options
  return {
    ...rest,
    ...(timeout === undefined
      ? {}
      : { timeout: timeout instanceof Date ? timeout.toISOString() : timeout }),
  }
}

/**
 * The `tokens` namespace of the API client.
 *
 * @example
 * const token = await createClient({ apiUrl, apiKey }).tokens.create({ timeout: "1h" })
 */
export function tokensNamespace(t: Transport) {
  return {
    /**
     * Creates a waitpoint token in the environment, to hand to a task (in its payload) that
     * waits for it with `tokens.wait`. The same `idempotencyKey` returns the same token.
     *
     * @example
     * const token = await client.tokens.create({ timeout: "1h", tags: ["approval"] })
     * await client.runs.trigger("deploy", { approvalToken: token.id })
     */
    async create(options: CreateTokenOptions = {}): Promise<CreatedToken> {
      return (
        await t.json("POST", "/tokens", CreatedTokenAnswer, { body: createTokenBody(options) })
      ).data
    },

    /**
     * Completes a waitpoint token; the waiting run resumes with `data`. A second completion is
     * an ApiError 409 (`conflict`) whose details carry the first completion.
     *
     * @example
     * await client.tokens.complete(tokenId, { approved: true })
     */
    async complete(tokenId: string, data?: unknown): Promise<TokenCompletion> {
      const body = data === undefined ? {} : { data }
      return (
        await t.json(
          "POST",
          `/tokens/${encodeURIComponent(tokenId)}/complete`,
          TokenCompletionAnswer,
          {
            body,
          },
        )
      ).data
    },
  }
}

export type TokensNamespace = ReturnType<typeof tokensNamespace>
