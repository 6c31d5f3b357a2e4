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

/**
 * The keyring's variables, spread into the config of every process that seals or opens secrets:
 * the current key and its version, and the retired keys (`version:key,…`) still needed to open
 * secrets sealed before a rotation.
 */
export const keyringFields = {
  HELMR_ENCRYPTION_KEY: configFields.encryptionKey,
  HELMR_ENCRYPTION_KEY_VERSION: z.coerce.number().int().min(1).max(1_000_000).default(1),
  HELMR_ENCRYPTION_RETIRED_KEYS: z
    .string()
    .default("")
    .refine(
      (v) => parseRetiredKeys(v) !== null,
      "must be `version:key` pairs separated by commas, each key 32 bytes (64 hex or base64)",
    ),
}

/** `1:<key>,2:<key>` → version → key text; null when malformed. An empty text is no keys. */
export function parseRetiredKeys(text: string): Record<number, string> | null {
  const keys: Record<number, string> = {}
  for (const pair of text.split(",")) {
    const trimmed = pair.trim()
    if (trimmed === "") continue
    const match = /^(\d{1,7}):(.+)$/.exec(trimmed)
    if (!match?.[1] || !match[2] || decodeKey(match[2]) === null) return null
    const version = Number(match[1])
    if (version < 1 || version in keys) return null
    keys[version] = match[2]
  }
  return keys
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
