import { schedules as declarativeSchedules } from "./authoring/index.ts"
import { streamClientFunctions } from "./client/facade.ts"
import { runtimeScheduleFunctions } from "./runtime/schedules.ts"
import { streams as runtimeStreams } from "./runtime/streams.ts"

export * from "./authoring/index.ts"
export { configure, scheduleClientFunctions } from "./client/facade.ts"
export * from "./client/index.ts"
export type { CreateTokenOptions } from "./client/tokens.ts"
export * from "./contract/index.ts"
export { OutsideRunError } from "./runtime/current-run.ts"
export * from "./runtime/logger.ts"
export { metadata } from "./runtime/metadata.ts"
export { MetadataTooLargeError } from "./runtime/metadata-store.ts"
export { ConcurrentWaitError, insideRun, RuntimeCallError } from "./runtime/rpc.ts"
export { type ChildRunResult, runs } from "./runtime/runs.ts"
export { StreamAppendError } from "./runtime/stream-writer.ts"
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

/**
 * Durable session streams: `streams.append(name, chunk)` and `streams.pipe(name, iterable)` inside
 * a task run; `streams.read(sessionId, name, { from })` anywhere, through the API (configured by
 * `HELMR_API_URL` and `HELMR_API_KEY`, or `configure`).
 *
 * @example
 * ```ts
 * import { streams } from "@helmr/sdk"
 * streams.append("status", { stage: "thinking" }) // inside a run
 * for await (const chunk of streams.read(sessionId, "status")) console.log(chunk.data) // anywhere
 * ```
 */
export const streams = { ...runtimeStreams, ...streamClientFunctions }
