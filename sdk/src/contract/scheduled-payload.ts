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

/**
 * `scheduleId` of a scheduled task triggered by hand ("run now") rather than by a fire.
 *
 * @example
 * ```ts
 * if (payload.scheduleId === MANUAL_SCHEDULE_ID) logger.info("run by hand")
 * ```
 */
export const MANUAL_SCHEDULE_ID = "manual"

/**
 * A scheduled payload as stored and sent: times as ISO-8601 strings.
 *
 * @example
 * ```ts
 * const wire: ScheduledPayloadWire = buildScheduledPayload(input)
 * ```
 */
export interface ScheduledPayloadWire {
  timestamp: string
  lastTimestamp?: string
  timezone: string
  scheduleId: string
  externalId?: string
  upcoming: string[]
}

/**
 * What `buildScheduledPayload` needs.
 *
 * @example
 * ```ts
 * const input: ScheduledPayloadInput = { slot, timezone: "UTC", scheduleId, upcoming: [] }
 * ```
 */
export interface ScheduledPayloadInput {
  /** The slot fired (a run now: the time of the trigger). */
  slot: Date
  /** The previous fired slot of the schedule instance, if any. */
  lastSlot?: Date | null
  timezone: string
  /** The logical schedule's id, or MANUAL_SCHEDULE_ID for a run now. */
  scheduleId: string
  externalId?: string | null
  /** Future slots from dispatch time (the dispatcher's `planFire`), already cut to length. */
  upcoming: readonly Date[]
}

/**
 * The one builder of a scheduled run's payload, for a real fire (dispatcher) and for a run now
 * (API): absent optional fields are left out, never `null`.
 *
 * @example
 * ```ts
 * buildScheduledPayload({ slot, timezone: "UTC", scheduleId: MANUAL_SCHEDULE_ID, upcoming: [] })
 * ```
 */
export function buildScheduledPayload(input: ScheduledPayloadInput): ScheduledPayloadWire {
  return {
    timestamp: input.slot.toISOString(),
    ...(input.lastSlot ? { lastTimestamp: input.lastSlot.toISOString() } : {}),
    timezone: input.timezone,
    scheduleId: input.scheduleId,
    ...(input.externalId ? { externalId: input.externalId } : {}),
    upcoming: input.upcoming.map((d) => d.toISOString()),
  }
}
