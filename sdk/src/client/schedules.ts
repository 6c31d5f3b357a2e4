import type { ListScheduleSlotsQuery, ScheduleSlotList } from "../contract/schedule-slots.ts"
import type {
  CreateScheduleBody,
  DeletedSchedule,
  ListSchedulesQuery,
  Schedule,
  ScheduleList,
  UpdateScheduleBody,
} from "../contract/schedules.ts"
import {
  DeletedScheduleAnswer,
  ScheduleAnswer,
  ScheduleListAnswer,
  ScheduleSlotListAnswer,
  TimezoneListAnswer,
} from "./answers.ts"
import type { Transport } from "./transport.ts"

const path = (idOrKey: string) => `/schedules/${encodeURIComponent(idOrKey)}`

export function schedulesNamespace(t: Transport) {
  return {
    /**
     * Creates an imperative schedule, or updates the one with this `deduplicationKey`.
     *
     * @example
     * await client.schedules.create({
     *   deduplicationKey: "nightly-maintenance-main",
     *   task: "nightly-maintenance",
     *   externalId: "main",
     *   cron: "0 2 * * *",
     *   timezone: "UTC",
     * })
     */
    async create(body: CreateScheduleBody): Promise<Schedule> {
      return (await t.json("POST", "/schedules", ScheduleAnswer, { body })).data
    },

    /**
     * One page of the environment's schedules (declarative ones included), oldest first.
     *
     * @example
     * const { data, nextCursor } = await client.schedules.list({ task: "nightly-maintenance" })
     */
    async list(query: ListSchedulesQuery = {}): Promise<ScheduleList> {
      return (await t.json("GET", "/schedules", ScheduleListAnswer, { query })).data
    },

    /**
     * A schedule by id (`sched_…`) or deduplication key, with its `upcoming` fire times.
     *
     * @example
     * const { upcoming } = await client.schedules.retrieve("nightly-maintenance-main")
     */
    async retrieve(idOrDeduplicationKey: string): Promise<Schedule> {
      return (await t.json("GET", path(idOrDeduplicationKey), ScheduleAnswer)).data
    },

    /**
     * Replaces an imperative schedule's definition.
     *
     * @example
     * await client.schedules.update(id, { task: "nightly-maintenance", cron: "30 2 * * *" })
     */
    async update(idOrDeduplicationKey: string, body: UpdateScheduleBody): Promise<Schedule> {
      return (await t.json("PUT", path(idOrDeduplicationKey), ScheduleAnswer, { body })).data
    },

    /**
     * The schedule's slot history, newest first: each slot's outcome (`fired`, `skipped`,
     * `failed`), the reason, the run and its status, and how late it was handled.
     *
     * @example
     * const { data } = await client.schedules.slots("nightly-maintenance-main", { outcome: "skipped" })
     * for (const slot of data) console.log(slot.slotAt, slot.reason)
     */
    async slots(
      idOrDeduplicationKey: string,
      query: ListScheduleSlotsQuery = {},
    ): Promise<ScheduleSlotList> {
      return (
        await t.json("GET", `${path(idOrDeduplicationKey)}/slots`, ScheduleSlotListAnswer, {
          query,
        })
      ).data
    },

    /**
     * Starts firing again from the next occurrence. Also resumes a schedule paused by
     * `pauseAfterFailures` (declarative ones included), clearing its failure count.
     *
     * @example
     * await client.schedules.activate(id)
     */
    async activate(idOrDeduplicationKey: string): Promise<Schedule> {
      return (await t.json("POST", `${path(idOrDeduplicationKey)}/activate`, ScheduleAnswer)).data
    },

    /**
     * Stops firing until activated.
     *
     * @example
     * await client.schedules.deactivate(id)
     */
    async deactivate(idOrDeduplicationKey: string): Promise<Schedule> {
      return (await t.json("POST", `${path(idOrDeduplicationKey)}/deactivate`, ScheduleAnswer)).data
    },

    /**
     * Deletes the schedule from this environment.
     *
     * @example
     * await client.schedules.del(id)
     */
    async del(idOrDeduplicationKey: string): Promise<DeletedSchedule> {
      return (await t.json("DELETE", path(idOrDeduplicationKey), DeletedScheduleAnswer)).data
    },

    /**
     * The IANA time zone names schedules accept.
     *
     * @example
     * const zones = await client.schedules.timezones()
     */
    async timezones(): Promise<string[]> {
      return (await t.json("GET", "/timezones", TimezoneListAnswer)).data.timezones
    },
  }
}

export type SchedulesNamespace = ReturnType<typeof schedulesNamespace>
