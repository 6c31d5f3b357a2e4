import { schedules as declarativeSchedules } from "./authoring/index.ts"
import { scheduleClientFunctions, streamClientFunctions } from "./client/facade.ts"
import { streams as runtimeStreams } from "./runtime/streams.ts"

export * from "./authoring/index.ts"
export { configure, scheduleClientFunctions } from "./client/facade.ts"
export * from "./client/index.ts"
export * from "./contract/index.ts"
export { OutsideRunError } from "./runtime/current-run.ts"
export * from "./runtime/logger.ts"
export { metadata } from "./runtime/metadata.ts"
export { MetadataTooLargeError } from "./runtime/metadata-store.ts"
export { StreamAppendError } from "./runtime/stream-writer.ts"

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
