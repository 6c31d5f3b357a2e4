import { z } from "zod"
import { Tags, Timestamp, TimestampInput } from "./common.ts"
import { DurationString } from "./duration.ts"
import { TokenId } from "./ids.ts"
import { IdempotencyKey } from "./runs.ts"

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
 * A completed token. Completing it again is a 409 whose `details` carry this same result, with
 * the first data.
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

/**
 * How long a token may wait for its completion: a duration (`10m`, `1h`, `7d`) or an ISO-8601
 * time. A token not completed by then times out, and a run waiting for it gets `{ ok: false }`.
 *
 * @example
 * ```ts
 * TokenTimeout.parse("1h"); TokenTimeout.parse("2026-06-01T09:00:00Z")
 * ```
 */
export const TokenTimeout = z.union([DurationString, TimestampInput], {
  error: "must be a duration such as 10m, 1h or 7d, or an ISO-8601 date-time with offset",
})

/**
 * `POST /api/v1/tokens` (and `tokens.create` inside a run). A second create with the same
 * `idempotencyKey` in the environment returns the first token.
 *
 * @example
 * ```ts
 * CreateTokenBody.parse({ timeout: "1h", idempotencyKey: "approve-pr-42", tags: ["pr"] })
 * ```
 */
export const CreateTokenBody = z.strictObject({
  timeout: TokenTimeout.optional(),
  idempotencyKey: IdempotencyKey.optional(),
  tags: Tags.optional(),
})
export type CreateTokenBody = z.infer<typeof CreateTokenBody>

/**
 * A waitpoint token: hand `id` (or `url`, the completion endpoint) to whoever completes it.
 *
 * @example
 * ```ts
 * const { id, url } = CreatedToken.parse(await res.json())
 * ```
 */
export const CreatedToken = z.object({
  id: TokenId,
  url: z.string(),
  status: z.enum(["pending", "completed", "timed_out"]),
  timeoutAt: Timestamp.nullable(),
  tags: z.array(z.string()),
  createdAt: Timestamp,
})
export type CreatedToken = z.infer<typeof CreatedToken>
