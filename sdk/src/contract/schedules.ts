import { z } from "zod"
import { Cursor, PageLimit, pageOf, Timestamp } from "./common.ts"
import { DeduplicationKey, ScheduleId, TaskId } from "./ids.ts"
import { ScheduleRunOptions } from "./run-options.ts"
import { RunStatus } from "./runs.ts"
import { CatchupWindow, Overlap, PauseAfterFailures } from "./schedule-policy.ts"

/**
 * Five fields: minute hour day-of-month month day-of-week.
 *
 * @example
 * ```ts
 * Cron.parse("0 2 * * *")
 * ```
 */
export const Cron = z.string().trim().min(1).max(256)

/**
 * An IANA time zone name (`GET /api/v1/timezones` lists them); default `UTC`.
 *
 * @example
 * ```ts
 * Timezone.parse("Europe/Paris")
 * ```
 */
export const Timezone = z.string().min(1).max(64)

/**
 * Your own reference for the schedule, passed to every run as `payload.externalId`.
 *
 * @example
 * ```ts
 * ExternalId.parse("customer-42")
 * ```
 */
export const ExternalId = z.string().min(1).max(256)

/**
 * `POST /api/v1/schedules`: upsert by `deduplicationKey`. A new schedule starts active; an existing
 * one keeps its active state and takes the new definition.
 */
export const CreateScheduleBody = z.strictObject({
  task: TaskId,
  cron: Cron,
  timezone: Timezone.optional(),
  deduplicationKey: DeduplicationKey,
  externalId: ExternalId.optional(),
  runOptions: ScheduleRunOptions.optional(),
  overlap: Overlap.optional(),
  catchupWindow: CatchupWindow.optional(),
  pauseAfterFailures: PauseAfterFailures.optional(),
})
export type CreateScheduleBody = z.input<typeof CreateScheduleBody>

/**
 * `PUT /api/v1/schedules/{id}`: replaces the definition. Omitted `timezone` is UTC, omitted
 * `externalId`, `runOptions`, `catchupWindow` and `pauseAfterFailures` are cleared, omitted
 * `overlap` is `allow`.
 *
 * @example
 * ```ts
 * await client.schedules.update("nightly-main", { task: "nightly-maintenance", cron: "30 2 * * *" })
 * ```
 */
export const UpdateScheduleBody = z.strictObject({
  task: TaskId,
  cron: Cron,
  timezone: Timezone.optional(),
  externalId: ExternalId.nullable().optional(),
  runOptions: ScheduleRunOptions.optional(),
  overlap: Overlap.optional(),
  catchupWindow: CatchupWindow.optional(),
  pauseAfterFailures: PauseAfterFailures.optional(),
})
export type UpdateScheduleBody = z.input<typeof UpdateScheduleBody>

/**
 * `declarative`: owned by task source (read-only here); `imperative`: made through the API.
 *
 * @example
 * ```ts
 * const readOnly = ScheduleKind.parse(schedule.kind) === "declarative"
 * ```
 */
export const ScheduleKind = z.enum(["declarative", "imperative"])
export type ScheduleKind = z.infer<typeof ScheduleKind>

/**
 * A schedule as this environment sees it: the logical schedule joined with its instance here.
 *
 * @example
 * ```ts
 * const { upcoming } = Schedule.parse(await res.json())
 * ```
 */
export const Schedule = z.object({
  id: ScheduleId,
  /** This environment's instance of the project-scoped schedule. */
  instanceId: z.string(),
  kind: ScheduleKind,
  task: TaskId,
  cron: z.string(),
  timezone: z.string(),
  deduplicationKey: z.string(),
  externalId: z.string().nullable(),
  active: z.boolean(),
  /** Why an inactive schedule is inactive: deactivated by hand, or paused by failures. */
  inactiveReason: z.enum(["manual", "failures"]).nullable(),
  runOptions: z.record(z.string(), z.unknown()),
  overlap: Overlap,
  /** The catch-up window as a duration string (`5m`), or null: the late slot always fires. */
  catchupWindow: z.string().nullable(),
  pauseAfterFailures: z.number().int().nullable(),
  /** The current streak of scheduled runs that ended failed, crashed or timed out. */
  failures: z.object({ consecutive: z.number().int(), runIds: z.array(z.string()) }),
  /** Slots of this instance by outcome (skipped ones by reason). */
  counters: z.object({
    fired: z.number().int(),
    failed: z.number().int(),
    skipped: z.object({
      missed: z.number().int(),
      overlap: z.number().int(),
      catchup_window: z.number().int(),
    }),
  }),
  /** The newest scheduled run of this instance and its status (null before the first fire). */
  lastRunId: z.string().nullable(),
  lastRunStatus: RunStatus.nullable(),
  /** The exact nominal time of the next slot; null while inactive. */
  nextRun: Timestamp.nullable(),
  /** The nominal time of the last fired slot. */
  lastRun: Timestamp.nullable(),
  /** The next fire times from now (ISO-8601 UTC); empty while inactive. */
  upcoming: z.array(Timestamp),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})
export type Schedule = z.infer<typeof Schedule>

/**
 * `GET /api/v1/schedules` filters and paging.
 *
 * @example
 * ```ts
 * await client.schedules.list({ task: "nightly-maintenance", limit: 50 })
 * ```
 */
export const ListSchedulesQuery = z.strictObject({
  task: TaskId.optional(),
  kind: ScheduleKind.optional(),
  limit: PageLimit.optional(),
  cursor: Cursor.optional(),
})
export type ListSchedulesQuery = z.input<typeof ListSchedulesQuery>

/**
 * Oldest first.
 *
 * @example
 * ```ts
 * const { data, nextCursor } = ScheduleList.parse(await res.json())
 * ```
 */
export const ScheduleList = pageOf(Schedule)
export type ScheduleList = z.infer<typeof ScheduleList>

/**
 * `DELETE /api/v1/schedules/{id}`: the schedule is gone from this environment.
 *
 * @example
 * ```ts
 * const { deleted } = DeletedSchedule.parse(await res.json())
 * ```
 */
export const DeletedSchedule = z.object({ id: ScheduleId, deleted: z.literal(true) })
export type DeletedSchedule = z.infer<typeof DeletedSchedule>

/**
 * `GET /api/v1/timezones`.
 *
 * @example
 * ```ts
 * const { timezones } = TimezoneList.parse(await res.json())
 * ```
 */
export const TimezoneList = z.object({ timezones: z.array(z.string()) })
export type TimezoneList = z.infer<typeof TimezoneList>
