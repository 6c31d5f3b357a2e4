import { CronExpressionParser } from "cron-parser"

/**
 * A 5-field cron expression compiled to sets. cron-parser does the field grammar (ranges, steps,
 * lists, month and weekday names, value bounds); the walk over local time is ours (occurrences.ts)
 * because cron-parser 5 mishandles DST with 30-minute shifts (see docs/ARCHITECTURE.md).
 */
export interface CompiledCron {
  minutes: readonly number[]
  hours: readonly number[]
  /** Index 1–31. */
  daysOfMonth: readonly boolean[]
  /** Index 1–12. */
  months: readonly boolean[]
  /** Index 0–6, Sunday = 0 (7 folded onto 0). */
  daysOfWeek: readonly boolean[]
  /** Day-of-month or day-of-week written other than `*`: classic cron ORs two restricted fields. */
  domRestricted: boolean
  dowRestricted: boolean
  /**
   * The hour field starts with `*` (`*`, `*∕2`): the job runs "every so many hours" and so runs in
   * both passes of a repeated hour and not at all in a skipped one. Any other hour field is a
   * fixed-hour job: it runs once in a repeated hour and is shifted out of a skipped one.
   */
  wildcardHour: boolean
}

export class CronSyntaxError extends Error {
  override name = "CronSyntaxError"
}

const NUMERIC = /^[\d*,/-]+$/
const NAMED = /^[\d*,/-]*$/
const FIELD_NAMES = ["minute", "hour", "day of month", "month", "day of week"] as const
// Longest meaningful expression: every value of every field listed, with commas, is ~400 chars.
const MAX_LENGTH = 512
// A hundred distinct crons per schedule would be unusual; this only bounds memory.
const cache = new Map<string, CompiledCron>()

/** Compiles a 5-field cron, throwing CronSyntaxError with a message fit for an API response. */
export function compileCron(cron: string): CompiledCron {
  const cached = cache.get(cron)
  if (cached) return cached
  const compiled = compileUncached(cron)
  if (cache.size >= 10_000) cache.clear()
  cache.set(cron, compiled)
  return compiled
}

function compileUncached(cron: string): CompiledCron {
  if (cron.length > MAX_LENGTH) throw new CronSyntaxError(`cron is longer than ${MAX_LENGTH}`)
  const fields = cron.trim().split(/\s+/)
  if (fields.length !== 5 || fields[0] === "") {
    throw new CronSyntaxError(
      `cron must have 5 fields (minute hour day-of-month month day-of-week), got ${fields[0] === "" ? 0 : fields.length}`,
    )
  }
  fields.forEach((field, index) => {
    // Month and weekday names (JAN, mon) are the only letters allowed; L, W, #, ? and H (Quartz
    // and Jenkins extensions cron-parser also knows) are refused: H is random per parse.
    const stripped = index >= 3 ? field.replace(/[a-z]{3}/gi, "") : field
    if (!(index >= 3 ? NAMED : NUMERIC).test(stripped) || stripped.includes("?")) {
      throw new CronSyntaxError(
        `invalid ${FIELD_NAMES[index]} field '${field}': use numbers, *, ranges (a-b), steps (/n) and lists (a,b)${index >= 3 ? " or names" : ""}; L, W, #, ? and H are not supported`,
      )
    }
  })
  // Each field alone (the others fixed to values that always exist), so an error names its field.
  // Day and month combinations are judged by canEverFire below, with a clearer message than
  // cron-parser's.
  const parsed = fields.map((field, index) => {
    const probe = ["0", "0", "1", "1", "*"]
    probe[index] = field
    return parseOrThrow(probe.join(" "), `${FIELD_NAMES[index]} field '${field}': `).fields
  })
  const minute = parsed[0]!.minute
  const hour = parsed[1]!.hour
  const dayOfMonth = parsed[2]!.dayOfMonth
  const month = parsed[3]!.month
  const dayOfWeek = parsed[4]!.dayOfWeek
  const toSet = (values: readonly (number | string)[], size: number, fold = false) => {
    const set = Array.from({ length: size }, () => false)
    for (const value of values) if (typeof value === "number") set[fold ? value % 7 : value] = true
    return set
  }
  const compiled: CompiledCron = {
    minutes: numbers(minute.values),
    hours: numbers(hour.values),
    daysOfMonth: toSet(dayOfMonth.values, 32),
    months: toSet(month.values, 13),
    daysOfWeek: toSet(dayOfWeek.values, 7, true),
    domRestricted: fields[2] !== "*",
    dowRestricted: fields[4] !== "*",
    wildcardHour: (fields[1] as string).startsWith("*"),
  }
  if (!canEverFire(compiled)) {
    throw new CronSyntaxError(`cron '${cron}' never fires: no chosen month has that day`)
  }
  return compiled
}

function numbers(values: readonly (number | string)[]): number[] {
  return values.filter((v) => typeof v === "number").map(Number)
}

function parseOrThrow(cron: string, context: string) {
  try {
    return CronExpressionParser.parse(cron, { tz: "UTC", strict: false })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    throw new CronSyntaxError(
      `${context}${message.replace(/^(Constraint|Validation) error, /, "")}`,
    )
  }
}

const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** A day-of-month list only (weekday `*`) can name days no chosen month has (`0 0 30 2 *`). */
function canEverFire(cron: CompiledCron): boolean {
  if (cron.dowRestricted && cron.domRestricted) return true
  if (!cron.domRestricted) return true
  for (let m = 1; m <= 12; m++) {
    if (!cron.months[m]) continue
    for (let d = 1; d <= (DAYS_IN_MONTH[m] as number); d++) if (cron.daysOfMonth[d]) return true
  }
  return false
}

/** Whether the local calendar day (year, month 1–12, day) is one the cron runs on. */
export function matchesDay(cron: CompiledCron, year: number, month: number, day: number): boolean {
  if (!cron.months[month]) return false
  const dom = cron.daysOfMonth[day] === true
  const dow = cron.daysOfWeek[new Date(Date.UTC(year, month - 1, day)).getUTCDay()] === true
  if (cron.domRestricted && cron.dowRestricted) return dom || dow
  return dom && dow
}
