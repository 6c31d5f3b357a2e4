export { configure, scheduleClientFunctions } from "./client/facade.ts"
export * from "./client/index.ts"
export * from "./contract/index.ts"

import { scheduleClientFunctions } from "./client/facade.ts"

/**
 * The top-level schedules facade. Issue 3's authoring adds `task` here:
 * `export const schedules = { task, ...scheduleClientFunctions }`.
 *
 * @example
 * import { schedules } from "@helmr/sdk"
 * await schedules.create({ deduplicationKey: "nightly-main", task: "nightly-maintenance", cron: "0 2 * * *" })
 */
export const schedules = { ...scheduleClientFunctions }
