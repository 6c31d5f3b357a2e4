import type { TokenCompletion } from "../contract/tokens.ts"
import { TokenCompletionAnswer } from "./answers.ts"
import type { Transport } from "./transport.ts"

export function tokensNamespace(t: Transport) {
  return {
    /**
     * Completes a waitpoint token; the waiting run resumes with `data`. Completing a token twice
     * returns the first completion.
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
