import { z } from "zod"

export class ConfigError extends Error {
  override name = "ConfigError"
}

/**
 * Parses the service's `HELMR_*` variables once. A missing or bad variable stops the service with
 * a message naming every variable that is wrong, never a stack trace from deep inside a client.
 */
export function parseConfig<T extends z.ZodObject>(
  schema: T,
  env: Record<string, string | undefined> = process.env,
): z.infer<T> {
  const result = schema.safeParse(env)
  if (result.success) return result.data
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.join(".") || "(environment)"
    const value = typeof issue.path[0] === "string" ? env[issue.path[0]] : undefined
    const detail = value === undefined ? "is not set" : issue.message
    // The value itself is never echoed: it may be a secret.
    return `  ${name}: ${detail}`
  })
  throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`)
}

/** `upcoming` slots in a scheduled run's payload when `HELMR_SCHEDULE_UPCOMING` is not set. */
export const DEFAULT_SCHEDULE_UPCOMING = 10

/** Reusable pieces of service configuration. */
export const configFields = {
  databaseUrl: z.url({ protocol: /^postgres(ql)?$/, error: "must be a postgres:// URL" }),
  valkeyUrl: z.url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" }),
  port: z.coerce.number().int().min(0).max(65535),
  keyPrefix: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9:_-]{0,63}$/, "must be letters, digits, ':', '_' or '-'"),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
  /**
   * `HELMR_SCHEDULE_UPCOMING`: how many future slots a scheduled run's payload lists in `upcoming`,
   * for a fire (dispatcher) and a run now (API) alike.
   */
  scheduleUpcoming: z.coerce.number().int().min(1).max(100).default(DEFAULT_SCHEDULE_UPCOMING),
  encryptionKey: z
    .string()
    .refine((v) => decodeKey(v) !== null, "must be 32 bytes as 64 hex characters or base64"),
}

/** A 256-bit key from 64 hex characters or base64; null when it is neither. */
export function decodeKey(value: string): Uint8Array | null {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, "hex")
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const bytes = Buffer.from(value, "base64")
    if (bytes.length === 32) return bytes
  }
  return null
}
