import { z } from "zod"
import { Timestamp } from "./common.ts"

/**
 * `POST /api/v1/tokens/{tokenId}/complete`: `data` is what the waiting task receives.
 *
 * @example
 * ```ts
 * CompleteTokenBody.parse({ data: { approved: true } })
 * ```
 */
export const CompleteTokenBody = z.strictObject({ data: z.unknown().optional() })
export type CompleteTokenBody = z.infer<typeof CompleteTokenBody>

/**
 * A completed token. Completing it again returns this same result, with the first data.
 *
 * @example
 * ```ts
 * const { data } = TokenCompletion.parse(await res.json())
 * ```
 */
export const TokenCompletion = z.object({
  id: z.string(),
  status: z.literal("completed"),
  data: z.unknown(),
  completedAt: Timestamp,
})
export type TokenCompletion = z.infer<typeof TokenCompletion>
