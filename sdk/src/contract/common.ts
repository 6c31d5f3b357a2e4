import { z } from "zod"

/** Wire timestamps: ISO-8601 in UTC (`2026-01-02T03:04:05.678Z`). */
export const Timestamp = z.iso.datetime()

/** Timestamps a caller sends may carry an offset (`2026-01-02T04:04:05+01:00`). */
export const TimestampInput = z.iso.datetime({ offset: true })

/** Tags label runs for filtering: up to 10 a run, each 1–128 characters without spaces or commas. */
export const Tag = z
  .string()
  .regex(/^[^\s,]{1,128}$/, "must be 1-128 characters without whitespace or commas")
export const Tags = z.array(Tag).max(10, "at most 10 tags")

/** Attempts a run may take before it fails (1–100). */
export const MaxAttempts = z.number().int().min(1).max(100)

/** An opaque pagination cursor: pass back `nextCursor` as it was received. */
export const Cursor = z.string().min(1).max(512)

/** Page size of list endpoints (1–100, default 20). */
export const PageLimit = z.coerce.number<string | number>().int().min(1).max(100)

/** One page of a list: `nextCursor` is null on the last page. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), nextCursor: Cursor.nullable() })
}

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** `500ms`, `10s`, `5m`, `2h`, `1d` and sums of them such as `1h30m`. */
export const DURATION_PATTERN = /^(?:\d{1,9}(?:ms|s|m|h|d))+$/

/**
 * Milliseconds of a duration string, or null when it is not one.
 *
 * @example parseDuration("1h30m") // 5_400_000
 */
export function parseDuration(text: string): number | null {
  if (!DURATION_PATTERN.test(text)) return null
  let total = 0
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS]
  }
  return total
}

export const DurationString = z
  .string()
  .regex(DURATION_PATTERN, "must be a duration such as 500ms, 10s, 5m, 2h, 1d or 1h30m")
