import { z } from "zod"
import { Timestamp } from "./common.ts"

/** `POST /api/v1/tokens/{tokenId}/complete`: `data` is what the waiting task receives. */
export const CompleteTokenBody = z.strictObject({ data: z.unknown().optional() })
export type CompleteTokenBody = z.infer<typeof CompleteTokenBody>

/** A completed token. Completing it again returns this same result, with the first data. */
export const TokenCompletion = z.object({
  id: z.string(),
  status: z.literal("completed"),
  data: z.unknown(),
  completedAt: Timestamp,
})
export type TokenCompletion = z.infer<typeof TokenCompletion>
