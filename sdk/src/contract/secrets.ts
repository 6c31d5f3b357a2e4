import { z } from "zod"
import { Timestamp } from "./common.ts"

/**
 * Secret names are environment-variable-like: `OPENAI_API_KEY`.
 *
 * @example
 * ```ts
 * SecretName.parse("OPENAI_API_KEY")
 * ```
 */
export const SecretName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,255}$/, "must match ^[A-Za-z_][A-Za-z0-9_]{0,255}$")

/**
 * `PUT /api/v1/secrets/{name}`: sets or replaces the value (at most 64 KiB).
 *
 * @example
 * ```ts
 * PutSecretBody.parse({ value: "sk-…" })
 * ```
 */
export const PutSecretBody = z.strictObject({ value: z.string().max(65_536) })
export type PutSecretBody = z.infer<typeof PutSecretBody>

/**
 * What the API ever says about a secret: never its value.
 *
 * @example
 * ```ts
 * const names = (await client.secrets.list()).map((s: Secret) => s.name)
 * ```
 */
export const Secret = z.object({ name: z.string(), createdAt: Timestamp, updatedAt: Timestamp })
export type Secret = z.infer<typeof Secret>

/**
 * `GET /api/v1/secrets`: names and timestamps, sorted by name.
 *
 * @example
 * ```ts
 * const { data } = SecretList.parse(await res.json())
 * ```
 */
export const SecretList = z.object({ data: z.array(Secret) })
export type SecretList = z.infer<typeof SecretList>

/**
 * `DELETE /api/v1/secrets/{name}`.
 *
 * @example
 * ```ts
 * const { deleted } = DeletedSecret.parse(await res.json())
 * ```
 */
export const DeletedSecret = z.object({ name: z.string(), deleted: z.literal(true) })
export type DeletedSecret = z.infer<typeof DeletedSecret>
