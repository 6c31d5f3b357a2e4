import { z } from "zod"
import { Timestamp } from "./common.ts"

/** Secret names are environment-variable-like: `OPENAI_API_KEY`. */
export const SecretName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,255}$/, "must match ^[A-Za-z_][A-Za-z0-9_]{0,255}$")

/** `PUT /api/v1/secrets/{name}`: sets or replaces the value (at most 64 KiB). */
export const PutSecretBody = z.strictObject({ value: z.string().max(65_536) })
export type PutSecretBody = z.infer<typeof PutSecretBody>

/** What the API ever says about a secret: never its value. */
export const Secret = z.object({ name: z.string(), createdAt: Timestamp, updatedAt: Timestamp })
export type Secret = z.infer<typeof Secret>

export const SecretList = z.object({ data: z.array(Secret) })
export type SecretList = z.infer<typeof SecretList>

export const DeletedSecret = z.object({ name: z.string(), deleted: z.literal(true) })
export type DeletedSecret = z.infer<typeof DeletedSecret>
