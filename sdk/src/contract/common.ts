import { z } from "zod"

/**
 * Wire timestamps: ISO-8601 in UTC (`2026-01-02T03:04:05.678Z`).
 *
 * @example
 * ```ts
 * Timestamp.parse(new Date().toISOString())
 * ```
 */
export const Timestamp = z.iso.datetime()

// Date.UTC maps years 0-99 to 1900-1999, hence the ISO strings.
const FIRST_INSTANT = Date.parse("0001-01-01T00:00:00Z")
const LAST_INSTANT = Date.parse("9999-12-31T23:59:59.999Z")

/**
 * Timestamps a caller sends may carry an offset (`2026-01-02T04:04:05+01:00`). The instant must
 * fall in years 1-9999 UTC: `0000-01-01T00:00:00Z` (or `0001-01-01T00:00:00+01:00`) has no
 * four-digit ISO form Postgres reads back, nor has anything past 9999.
 *
 * @example
 * ```ts
 * TimestampInput.parse("2026-01-02T04:04:05+01:00")
 * ```
 */
export const TimestampInput = z.iso
  .datetime({ offset: true })
  .refine(
    (value) => Date.parse(value) >= FIRST_INSTANT && Date.parse(value) <= LAST_INSTANT,
    "must fall between the years 1 and 9999 UTC",
  )

/**
 * Tags label runs for filtering: up to 10 a run, each 1–128 characters without spaces or commas.
 *
 * @example
 * ```ts
 * Tag.parse("repo:web")
 * ```
 */
export const Tag = z
  .string()
  .regex(/^[^\s,]{1,128}$/, "must be 1-128 characters without whitespace or commas")
/**
 * A run's tags: at most 10.
 *
 * @example
 * ```ts
 * Tags.parse(["repo:web", "priority"])
 * ```
 */
export const Tags = z.array(Tag).max(10, "at most 10 tags")

/**
 * Attempts a run may take before it fails (1–100).
 *
 * @example
 * ```ts
 * MaxAttempts.parse(3)
 * ```
 */
export const MaxAttempts = z.number().int().min(1).max(100)

/**
 * An opaque pagination cursor: pass back `nextCursor` as it was received.
 *
 * @example
 * ```ts
 * await client.runs.list({ cursor: page.nextCursor ?? undefined })
 * ```
 */
export const Cursor = z.string().min(1).max(512)

/**
 * Page size of list endpoints (1–100, default 20).
 *
 * @example
 * ```ts
 * PageLimit.parse("50") // 50
 * ```
 */
export const PageLimit = z.coerce.number<string | number>().int().min(1).max(100)

/**
 * One page of a list: `nextCursor` is null on the last page.
 *
 * @example
 * ```ts
 * const RunList = pageOf(RunSummary)
 * ```
 */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), nextCursor: Cursor.nullable() })
}
