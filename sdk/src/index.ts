import { schedules as declarativeSchedules } from "./authoring/index.ts"
import { runtimeScheduleFunctions } from "./runtime/schedules.ts"

export * from "./authoring/index.ts"
export { configure, scheduleClientFunctions } from "./client/facade.ts"
export * from "./client/index.ts"
export type { CreateTokenOptions } from "./client/tokens.ts"
export * from "./contract/index.ts"
export * from "./runtime/logger.ts"
export {
  ConcurrentWaitError,
  insideRun,
  OutsideRunError,
  RuntimeCallError,
} from "./runtime/rpc.ts"
export { type ChildRunResult, runs } from "./runtime/runs.ts"
export { timers, type WaitDuration, waitDurationMs } from "./runtime/timers.ts"
export { type TokenWaitResult, tokens } from "./runtime/tokens.ts"

/**
 * The top-level schedules facade: `schedules.task()` declares a scheduled task in source
 * (deployed with it); `create`, `list`, `retrieve`, `update`, `activate`, `deactivate`, `del` and
 * `timezones` manage imperative schedules: inside a run through the runner, in the run's
 * environment (no API key in the sandbox); elsewhere through the API, configured by
 * `HELMR_API_URL` and `HELMR_API_KEY` (or `configure({ apiUrl, apiKey })`).
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
export const schedules = { ...declarativeSchedules, ...runtimeScheduleFunctions }
