import { z } from "zod"

/**
 * Durations, owned here for every process: trigger `delay` and `ttl` (API), schedule run options
 * (`ttl`, read again by the dispatcher at each fire). One grammar: whole amounts of `ms`, `s`,
 * `m`, `h`, `d`, summed (`1h30m`); a bare number, where allowed, is whole seconds.
 */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/**
 * Longest delay and ttl accepted anywhere: a year.
 *
 * @example
 * ```ts
 * parseDuration("365d") === MAX_WAIT_MS // true
 * ```
 */
export const MAX_WAIT_MS = 365 * 86_400_000

/**
 * `500ms`, `10s`, `5m`, `2h`, `1d` and sums of them such as `1h30m`.
 *
 * @example
 * ```ts
 * DURATION_PATTERN.test("1h30m") // true
 * ```
 */
export const DURATION_PATTERN = /^(?:\d{1,9}(?:ms|s|m|h|d))+$/

/**
 * Milliseconds of a duration string, or null when it is not one.
 *
 * @example
 * ```ts
 * parseDuration("1h30m") // 5_400_000
 * ```
 */
export function parseDuration(text: string): number | null {
  if (!DURATION_PATTERN.test(text)) return null
  let total = 0
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS]
  }
  return total
}

/**
 * Milliseconds of a duration string or of a number of seconds (a `ttl`), or null when it is
 * neither.
 *
 * @example
 * ```ts
 * durationMs("10m") // 600_000
 * durationMs(60) // 60_000
 * ```
 */
export function durationMs(value: string | number): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value * 1000 : null
  return parseDuration(value)
}

/**
 * A duration string: `500ms`, `10s`, `5m`, `2h`, `1d` or a sum such as `1h30m`.
 *
 * @example
 * ```ts
 * DurationString.parse("10m")
 * ```
 */
export const DurationString = z
  .string()
  .regex(DURATION_PATTERN, "must be a duration such as 500ms, 10s, 5m, 2h, 1d or 1h30m")
