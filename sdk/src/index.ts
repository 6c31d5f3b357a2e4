import { schedules as declarativeSchedules } from "./authoring/index.ts"
import { scheduleClientFunctions } from "./client/facade.ts"

export * from "./authoring/index.ts"
export { configure, scheduleClientFunctions } from "./client/facade.ts"
export * from "./client/index.ts"
export * from "./contract/index.ts"
export * from "./runtime/logger.ts"

/**
 * The top-level schedules facade: `schedules.task()` declares a scheduled task in source
 * (deployed with it); `create`, `list`, `retrieve`, `update`, `activate`, `deactivate`, `del` and
 * `timezones` manage imperative schedules through the API, configured by `HELMR_API_URL` and
 * `HELMR_API_KEY` (or `configure({ apiUrl, apiKey })`).
 *
 * @example
 * ```ts
 * import { schedules } from "@helmr/sdk"
 * await schedules.create({
 *   deduplicationKey: "nightly-maintenance-main",
 *   task: "nightly-maintenance",
 *   externalId: "main",
 *   cron: "0 2 * * *",
 *   timezone: "UTC",
 * })
 * ```
 */
export const schedules = { ...declarativeSchedules, ...scheduleClientFunctions }
