/**
 * A syntax check of 5-field cron expressions, so a typo fails at declaration. The API checks the
 * expression again with the same parser the dispatcher fires with; this one only has to agree on
 * what is obviously wrong.
 */

interface CronField {
  name: string
  min: number
  max: number
  names?: readonly string[]
  /** Extra forms: `L`, `nW` (day of month), `nL`, `n#k` (day of week), `?`. */
  special?: RegExp
}

const FIELDS: readonly CronField[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31, special: /^(\?|L|L-\d{1,2}|\d{1,2}W|LW)$/i },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
  },
  {
    name: "day of week",
    min: 0,
    max: 7,
    names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    special: /^(\?|[0-7]L|[0-7]#[1-5]|(SUN|MON|TUE|WED|THU|FRI|SAT)(L|#[1-5]))$/i,
  },
]

/** Collapses whitespace: `" 0  2 * * *"` → `"0 2 * * *"`. */
export function normalizeCron(pattern: string): string {
  return pattern.trim().split(/\s+/).join(" ")
}

/** A problem sentence, or undefined when the expression is a valid 5-field cron. */
export function checkCron(pattern: unknown): string | undefined {
  if (typeof pattern !== "string") return "must be a cron expression string"
  const parts = normalizeCron(pattern).split(" ")
  if (parts.length !== 5 || parts[0] === "") {
    return `${JSON.stringify(pattern)} must have 5 fields (minute hour day-of-month month day-of-week), got ${parts[0] === "" ? 0 : parts.length}`
  }
  for (const [index, field] of FIELDS.entries()) {
    const part = parts[index] as string
    const problem = checkField(part, field)
    if (problem) return `${JSON.stringify(pattern)}: ${field.name} field "${part}" ${problem}`
  }
  return undefined
}

function checkField(part: string, field: CronField): string | undefined {
  for (const item of part.split(",")) {
    if (item === "") return "has an empty list item"
    if (field.special?.test(item)) continue
    const match = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(item)
    if (!match) return "is not a number, range, step or list"
    const [, range, step] = match
    if (step !== undefined && Number(step) < 1) return "has a step below 1"
    if (range === "*") continue
    for (const bound of (range as string).split("-")) {
      const value = cronValue(bound, field)
      if (value === undefined) return `has "${bound}", not a ${field.name}`
      if (value < field.min || value > field.max) {
        return `has ${bound}, outside ${field.min}-${field.max}`
      }
    }
  }
  return undefined
}

function cronValue(token: string, field: CronField): number | undefined {
  if (/^\d+$/.test(token)) return Number(token)
  const index = field.names?.indexOf(token.toUpperCase()) ?? -1
  if (index < 0) return undefined
  return field.name === "month" ? index + 1 : index
}
