/**
 * The cron grammar, owned here for every process: the SDK's declaration check, the API's
 * validation and the dispatcher's occurrence walk all read a cron through `parseCron`, so what
 * one accepts the others accept, and a refusal reads the same everywhere.
 *
 * Helmr's grammar is classic 5-field cron (minute hour day-of-month month day-of-week): numbers,
 * `*`, ranges `a-b`, steps `*∕n`, `a-b/n`, `a/n`, lists, month names JAN–DEC and weekday names
 * SUN–SAT (any case), weekday 7 = Sunday. Refused: other field counts (6-field seconds, 7-field
 * years), macros (`@daily`), and the Quartz/Jenkins extensions `L`, `W`, `#`, `?`, `H` — the
 * dispatcher's DST walk has no meaning for them and `H` is random per parse. A cron that can never
 * fire (`0 0 30 2 *`) is refused too. See docs/ARCHITECTURE.md, "Schedules".
 */

/**
 * A 5-field cron compiled to sets: what the dispatcher's walk over local days consumes.
 *
 * @example
 * ```ts
 * const parsed = parseCron("0 9 * * MON")
 * if (parsed.ok) parsed.cron.daysOfWeek[1] // true
 * ```
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
   * both passes of a repeated hour and not at all in a skipped one (Vixie cron's rule).
   */
  wildcardHour: boolean
}

/**
 * `parseCron`'s answer: the compiled fields, or one sentence saying why the cron is refused.
 *
 * @example
 * ```ts
 * const parsed: CronParse = parseCron("0 0 L * *")
 * if (!parsed.ok) console.error(parsed.message) // …L, W, #, ? and H are not supported…
 * ```
 */
export type CronParse =
  | { ok: true; cron: CompiledCron; normalized: string }
  | { ok: false; message: string }

/**
 * Longest accepted expression: every value of every field listed, with commas, is ~400 chars.
 *
 * @example
 * ```ts
 * if (pattern.length > CRON_MAX_LENGTH) throw new Error("too long")
 * ```
 */
export const CRON_MAX_LENGTH = 512

interface Field {
  name: string
  min: number
  max: number
  names?: readonly string[]
  /** The first name's value (months count from 1). */
  nameBase?: number
}

const FIELDS: readonly Field[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
    nameBase: 1,
  },
  {
    name: "day of week",
    min: 0,
    max: 7,
    names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    nameBase: 0,
  },
]

/** `L`, `LW`, `L-3`, `15W`, `5L`, `FRIL`, `1#2`, `?`, `H`, `H(0-29)/10`: what Quartz and Jenkins add. */
const QUARTZ = /^(\?|L|LW|L-\d+|\d+W|\d+L|[A-Za-z]{3}L|[A-Za-z0-9]+#\d+|H(\(\d+-\d+\))?(\/\d+)?)$/i
const FIELD_LIST = "minute hour day-of-month month day-of-week"
const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/**
 * Collapses whitespace, the spelling under which two crons are the same schedule.
 *
 * @example
 * ```ts
 * normalizeCron(" 0  2 * * *") // "0 2 * * *"
 * ```
 */
export function normalizeCron(pattern: string): string {
  return pattern.trim().split(/\s+/).join(" ")
}

/**
 * Parses a 5-field cron into sets, or says in one sentence why it is refused.
 *
 * @example
 * ```ts
 * const parsed = parseCron("30 9 * * MON-FRI")
 * if (!parsed.ok) throw new Error(parsed.message)
 * parsed.cron.hours // [9]
 * ```
 */
export function parseCron(pattern: unknown): CronParse {
  if (typeof pattern !== "string") return refuse("must be a cron expression string")
  const quoted = JSON.stringify(pattern)
  if (pattern.length > CRON_MAX_LENGTH) {
    return refuse(`${quoted.slice(0, 40)}… is longer than ${CRON_MAX_LENGTH} characters`)
  }
  const normalized = normalizeCron(pattern)
  const parts = normalized === "" ? [] : normalized.split(" ")
  if (parts.length !== 5) {
    const macro = /^@/.test(normalized)
      ? "; macros such as @daily are not supported (write 0 0 * * *)"
      : parts.length === 6
        ? "; a seconds field is not supported"
        : ""
    return refuse(`${quoted} must have 5 fields (${FIELD_LIST}), got ${parts.length}${macro}`)
  }
  const sets: boolean[][] = []
  for (const [index, field] of FIELDS.entries()) {
    const part = parts[index] as string
    const set = parseField(part, field)
    if (typeof set === "string") return refuse(`${quoted}: ${field.name} field "${part}" ${set}`)
    sets.push(set)
  }
  const [minute, hour, dom, month, dow] = sets as [
    boolean[],
    boolean[],
    boolean[],
    boolean[],
    boolean[],
  ]
  if (dow[7]) dow[0] = true
  const cron: CompiledCron = {
    minutes: indexes(minute),
    hours: indexes(hour),
    daysOfMonth: Array.from({ length: 32 }, (_, i) => dom[i] === true),
    months: Array.from({ length: 13 }, (_, i) => month[i] === true),
    daysOfWeek: Array.from({ length: 7 }, (_, i) => dow[i] === true),
    domRestricted: parts[2] !== "*",
    dowRestricted: parts[4] !== "*",
    wildcardHour: (parts[1] as string).startsWith("*"),
  }
  if (!canEverFire(cron)) return refuse(`${quoted} never fires: no chosen month has that day`)
  return { ok: true, cron, normalized }
}

function refuse(message: string): CronParse {
  return { ok: false, message }
}

function indexes(set: readonly boolean[]): number[] {
  return set.flatMap((on, i) => (on ? [i] : []))
}

/** The field's set, or the problem (a phrase following `field "<part>"`). */
function parseField(part: string, field: Field): boolean[] | string {
  const set = Array.from({ length: field.max + 1 }, () => false)
  for (const item of part.split(",")) {
    if (item === "") return "has an empty list item"
    if (QUARTZ.test(item)) {
      return `uses a Quartz/Jenkins form: L, W, #, ? and H are not supported (use numbers, *, ranges a-b, steps /n and lists a,b)`
    }
    const match = /^(\*|[A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:\/([0-9]+))?$/.exec(item)
    if (!match) return `has "${item}", not a number, range, step or list`
    const [, startText, endText, stepText] = match as unknown as [string, string, string?, string?]
    const step = stepText === undefined ? 1 : Number(stepText)
    if (step < 1) return "has a step below 1"
    let start = field.min
    let end = field.max
    if (startText !== "*") {
      const value = fieldValue(startText, field)
      if (typeof value === "string") return value
      start = value
      // `a/n` runs from a to the field's end; a bare `a` is just a.
      end = stepText === undefined ? value : field.max
    } else if (endText !== undefined) {
      return `has "${item}": * cannot start a range`
    }
    if (endText !== undefined) {
      const value = fieldValue(endText, field)
      if (typeof value === "string") return value
      end = value
      if (end < start) return `has the range ${startText}-${endText}, which runs backwards`
    }
    for (let v = start; v <= end; v += step) set[v] = true
  }
  return set
}

function isName(token: string, field: Field): boolean {
  return field.names?.includes(token.toUpperCase()) ?? false
}

function fieldValue(token: string, field: Field): number | string {
  let value: number
  if (/^[0-9]+$/.test(token)) value = Number(token)
  else if (isName(token, field)) {
    value = (field.names as readonly string[]).indexOf(token.toUpperCase()) + (field.nameBase ?? 0)
  } else return `has "${token}", not a ${field.name}`
  if (value < field.min || value > field.max) {
    return `has ${token}, outside ${field.min}-${field.max}`
  }
  return value
}

/** A day-of-month list only (weekday `*`) can name days no chosen month has (`0 0 30 2 *`). */
function canEverFire(cron: CompiledCron): boolean {
  if (!cron.domRestricted || cron.dowRestricted) return true
  for (let m = 1; m <= 12; m++) {
    if (!cron.months[m]) continue
    for (let d = 1; d <= (DAYS_IN_MONTH[m] as number); d++) if (cron.daysOfMonth[d]) return true
  }
  return false
}
