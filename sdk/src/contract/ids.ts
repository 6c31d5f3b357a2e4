import { z } from "zod"

/** Public ids: `<prefix>_` + 26 lowercase Crockford base32 characters. */
function prefixedId<P extends string>(prefix: P) {
  return z
    .string()
    .regex(new RegExp(`^${prefix}_[0-9a-hjkmnp-tv-z]{26}$`), `must be a ${prefix}_… id`)
}

export const ProjectId = prefixedId("proj")
export const EnvironmentId = prefixedId("env")
export const DeploymentId = prefixedId("dep")
export const ScheduleId = prefixedId("sched")
export const SessionId = prefixedId("sess")
export const RunId = prefixedId("run")
export const TokenId = prefixedId("tok")

/** Task ids, schedule deduplication keys and idempotency keys share one shape. */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
export const TaskId = z
  .string()
  .regex(IDENTIFIER_PATTERN, "must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
export const DeduplicationKey = TaskId
