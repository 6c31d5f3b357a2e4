import { z } from "zod"

/** A time on the wire: an ISO-8601 string (or a Date in process), always a Date once parsed. */
const WireDate = z.union([
  z.date(),
  z.iso.datetime({ offset: true }).transform((value) => new Date(value)),
])

/**
 * The payload every scheduled run receives, generated at fire time (scheduled tasks declare no
 * payload). On the wire the times are ISO-8601 strings; parsing turns them into Dates.
 *
 * @example
 * ```ts
 * const payload = ScheduledTaskPayload.parse(JSON.parse(wire)) // timestamp: Date
 * ```
 */
export const ScheduledTaskPayload = z.object({
  /** The nominal time of the slot being fired. */
  timestamp: WireDate,
  /** The nominal time of the previous fired slot of this schedule instance. */
  lastTimestamp: WireDate.optional(),
  timezone: z.string(),
  scheduleId: z.string(),
  externalId: z.string().optional(),
  /** Future slots from dispatch time; missed slots are never backfilled. */
  upcoming: z.array(WireDate),
})
export type ScheduledTaskPayload = z.output<typeof ScheduledTaskPayload>
