import { describe, expect, test } from "bun:test"
import { DeclarationError, image, sandbox, schedules } from "@helmr/sdk"
import { CronExpressionParser } from "cron-parser"
import { ScheduleError, validateSchedule } from "./calc.ts"
import { CRON_CORPUS } from "./cron-corpus.ts"
import { compileCron } from "./cron-fields.ts"

const sb = sandbox("cron-agreement").image(image("cron-agreement").from("oven/bun:1"))

/** What the SDK says at declaration: undefined when accepted, else the message after the field. */
function sdkVerdict(pattern: string, index: number): string | undefined {
  try {
    schedules.task({
      id: `cron-agreement-${index}`,
      sandbox: sb,
      cron: { pattern, timezone: "UTC" },
      run: () => 1,
    })
    return undefined
  } catch (error) {
    if (!(error instanceof DeclarationError)) throw error
    if (error.field !== "cron.pattern") throw error
    return error.message.replace(`task "cron-agreement-${index}": cron.pattern: `, "")
  }
}

/** What the API answers (it validates with validateSchedule, the dispatcher's own entry point). */
function serverVerdict(pattern: string): string | undefined {
  try {
    validateSchedule(pattern, "UTC")
    return undefined
  } catch (error) {
    if (!(error instanceof ScheduleError) || error.field !== "cron") throw error
    return error.message
  }
}

describe("one cron grammar", () => {
  test("the corpus is large enough to mean something", () => {
    expect(CRON_CORPUS.length).toBeGreaterThanOrEqual(200)
  })

  test.each(
    CRON_CORPUS.map((pattern, index) => [JSON.stringify(pattern), pattern, index] as const),
  )("SDK and server agree on %s", (_, pattern, index) => {
    expect(sdkVerdict(pattern, index)).toBe(serverVerdict(pattern))
  })

  // cron-parser (a dev dependency only) was the dispatcher's field parser before the grammar moved
  // to the contract; for every accepted cron it must still compile to the same sets.
  test.each(CRON_CORPUS.filter((p) => serverVerdict(p) === undefined).map((p) => [p]))(
    "accepted %j compiles as cron-parser does",
    (pattern) => {
      // Each field alone (the others fixed to values that always exist), as the dispatcher used
      // cron-parser: a whole expression would have cron-parser clamp days to the chosen months.
      const parts = pattern.trim().split(/\s+/)
      const field = (index: number) => {
        const probe = ["0", "0", "1", "1", "*"]
        probe[index] = parts[index] as string
        return CronExpressionParser.parse(probe.join(" "), { tz: "UTC", strict: false }).fields
      }
      const fields = {
        minute: field(0).minute,
        hour: field(1).hour,
        dayOfMonth: field(2).dayOfMonth,
        month: field(3).month,
        dayOfWeek: field(4).dayOfWeek,
      }
      const cron = compileCron(pattern)
      const days = (on: readonly boolean[]) => on.flatMap((v, i) => (v ? [i] : []))
      expect(cron.minutes).toEqual(fields.minute.values.map(Number))
      expect(cron.hours).toEqual(fields.hour.values.map(Number))
      expect(days(cron.daysOfMonth)).toEqual(
        fields.dayOfMonth.values.filter((v) => typeof v === "number"),
      )
      expect(days(cron.months)).toEqual(fields.month.values.map(Number))
      expect(days(cron.daysOfWeek)).toEqual(
        [...new Set(fields.dayOfWeek.values.map((v) => Number(v) % 7))].sort((a, b) => a - b),
      )
    },
  )
})
