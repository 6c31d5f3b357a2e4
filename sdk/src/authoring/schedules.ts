import { parseCron } from "../contract/cron.ts"
import { type CronSpec, ScheduleDeclaration } from "../contract/manifest.ts"
import type { ScheduleRunOptions } from "../contract/run-options.ts"
import type { CatchupWindow, Overlap } from "../contract/schedule-policy.ts"
import type { ScheduledTaskPayload } from "../contract/scheduled-payload.ts"
import type { TaskContext } from "./context.ts"
import { declareTask, type QueueOption, type RetryOption, type SecretOption } from "./declare.ts"
import { DeclarationError } from "./errors.ts"
import type { Sandbox } from "./sandbox.ts"
import type { Task } from "./task.ts"
import { checkTimezone, describe } from "./validate.ts"

export type { ScheduledTaskPayload } from "../contract/scheduled-payload.ts"

/**
 * A 5-field cron expression, or one with its IANA time zone (default `UTC`).
 *
 * @example
 * ```ts
 * const nightly: CronOption = { pattern: "0 2 * * *", timezone: "Europe/Paris" }
 * const hourly: CronOption = "0 * * * *"
 * ```
 */
export type CronOption = string | { pattern: string; timezone?: string }

/**
 * Options of `schedules.task()`: like `task()`, with `cron` and no `payload`.
 *
 * @example
 * ```ts
 * schedules.task({ id: "nightly", sandbox: sb, cron: "0 2 * * *", run: async (payload) => {} })
 * ```
 */
export interface ScheduledTaskOptions<Id extends string, Output> {
  /** Unique in the project; matches `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`. */
  id: Id
  sandbox: Sandbox<true>
  /** When to run: `"0 2 * * *"` or `{ pattern: "0 2 * * *", timezone: "Europe/Paris" }`. */
  cron: CronOption
  maxDuration?: number
  secrets?: readonly SecretOption[]
  /** Concurrency of its runs (a schedule's run options may override it). */
  queue?: QueueOption
  /** Attempts and backoff of its runs. */
  retry?: RetryOption
  /**
   * While the previous run of the schedule is still active: `allow` (default) starts another
   * run, `skip` skips the slot, `bufferOne` runs it after the active run (one at most),
   * `cancelPrevious` cancels the active run first.
   */
  overlap?: Overlap
  /** A slot reached later than this (`"5m"`, or seconds) is skipped instead of fired late. */
  catchupWindow?: CatchupWindow
  /** Deactivate the schedule after this many consecutive failed runs. */
  pauseAfterFailures?: number
  /** Options of every scheduled run: `tags`, `maxAttempts`, `ttl`, `maxDuration`. */
  runOptions?: ScheduleRunOptions
  /** Scheduled tasks take no payload: Helmr generates a {@link ScheduledTaskPayload}. */
  payload?: never
  run: (payload: ScheduledTaskPayload, ctx: TaskContext) => Output | Promise<Output>
}

/**
 * A task declared with `schedules.task()`: triggered by its cron, with the schedule payload.
 *
 * @example
 * ```ts
 * const nightly: ScheduledTask<"nightly"> = schedules.task({ id: "nightly", sandbox: sb, cron: "0 2 * * *", run: async () => {} })
 * ```
 */
export type ScheduledTask<Id extends string = string, Output = unknown> = Task<
  Id,
  undefined,
  Output,
  ScheduledTaskPayload
>

function scheduledTask<const Id extends string, Output = void>(
  options: ScheduledTaskOptions<Id, Output>,
): ScheduledTask<Id, Awaited<Output>> {
  const raw = (options ?? {}) as Partial<Record<keyof ScheduledTaskOptions<Id, Output>, unknown>>
  const id = String(raw.id)
  if ("payload" in (options ?? {})) {
    throw new DeclarationError(
      "payload",
      "scheduled tasks take no payload: Helmr supplies { timestamp, lastTimestamp, timezone, scheduleId, externalId, upcoming }",
      id,
    )
  }
  return declareTask({
    kind: "scheduled",
    id: raw.id,
    sandbox: raw.sandbox,
    maxDuration: raw.maxDuration,
    secrets: raw.secrets,
    payload: undefined,
    cron: checkCronOption(id, raw.cron),
    queue: raw.queue,
    retry: raw.retry,
    schedule: checkScheduleOptions(id, raw),
    run: raw.run,
  }) as ScheduledTask<Id, Awaited<Output>>
}

/** The flow-control fields and run options, checked by the contract's own schema. */
function checkScheduleOptions(
  id: string,
  raw: Partial<Record<string, unknown>>,
): ScheduleDeclaration | undefined {
  const fields = ["overlap", "catchupWindow", "pauseAfterFailures", "runOptions"] as const
  const given = Object.fromEntries(
    fields.filter((f) => raw[f] !== undefined).map((f) => [f, raw[f]]),
  )
  if (Object.keys(given).length === 0) return undefined
  const parsed = ScheduleDeclaration.safeParse(given)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const field = issue?.path.join(".") || "schedule"
    throw new DeclarationError(field, issue?.message ?? "invalid", id)
  }
  return parsed.data
}

function checkCronOption(id: string, value: unknown): CronSpec {
  const spec =
    typeof value === "string"
      ? { pattern: value, timezone: "UTC" }
      : typeof value === "object" && value !== null
        ? (value as { pattern?: unknown; timezone?: unknown })
        : undefined
  if (!spec) {
    throw new DeclarationError(
      "cron",
      `must be "<5-field cron>" or { pattern, timezone }, got ${describe(value)}`,
      id,
    )
  }
  const field = typeof value === "string" ? "cron" : "cron.pattern"
  const parsed = parseCron(spec.pattern)
  if (!parsed.ok) throw new DeclarationError(field, parsed.message, id)
  const timezone = spec.timezone ?? "UTC"
  const zoneProblem = checkTimezone(timezone)
  if (zoneProblem) throw new DeclarationError("cron.timezone", zoneProblem, id)
  return { pattern: parsed.normalized, timezone: timezone as string }
}

/**
 * Declarative schedules. `schedules.task()` declares a task that runs from cron; the schedule is
 * deployed with the task and reconciled into an environment when a deployment is promoted.
 *
 * @example
 * ```ts
 * import { logger, sandbox, schedules } from "@helmr/sdk"
 *
 * export const nightly = schedules.task({
 *   id: "nightly-maintenance",
 *   sandbox: sandbox("nightly").image(runtime),
 *   cron: { pattern: "0 2 * * *", timezone: "UTC" },
 *   overlap: "skip",
 *   pauseAfterFailures: 3,
 *   run: async (payload) => {
 *     logger.info("scheduled slot", payload.timestamp.toISOString())
 *   },
 * })
 * ```
 */
export const schedules = {
  /**
   * Declares a scheduled task: a 5-field cron (minute hour day-of-month month day-of-week) in an
   * IANA time zone (default UTC). It takes no payload: each run receives the schedule metadata.
   *
   * @example
   * ```ts
   * export const hourly = schedules.task({
   *   id: "hourly-sync",
   *   sandbox: sb,
   *   cron: "0 * * * *",
   *   run: async (payload) => ({ slot: payload.timestamp.toISOString(), next: payload.upcoming[0] }),
   * })
   * ```
   */
  task: scheduledTask,
}
