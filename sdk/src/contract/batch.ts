import { z } from "zod"
import { RunId, TaskId } from "./ids.ts"
import { TriggerOptions } from "./runs.ts"

/** Most items one batch trigger takes. */
export const MAX_BATCH_ITEMS = 1000

/**
 * One run of `POST /api/v1/tasks/{taskId}/batch`: its own payload and options.
 *
 * @example
 * ```ts
 * BatchItem.parse({ payload: { prNumber: 42 }, options: { idempotencyKey: "pr-42" } })
 * ```
 */
export const BatchItem = z.strictObject({
  payload: z.unknown().optional(),
  options: TriggerOptions.optional(),
})
export type BatchItem = z.infer<typeof BatchItem>

/**
 * `POST /api/v1/tasks/{taskId}/batch`: 1 to 1,000 runs of one task. Validated all or nothing:
 * one bad item (its payload, options, idempotency key…) creates no run at all.
 *
 * @example
 * ```ts
 * TaskBatchBody.parse({ items: [{ payload: { prNumber: 1 } }, { payload: { prNumber: 2 } }] })
 * ```
 */
export const TaskBatchBody = z.strictObject({
  items: z.array(BatchItem).min(1).max(MAX_BATCH_ITEMS, `at most ${MAX_BATCH_ITEMS} items`),
})
export type TaskBatchBody = z.infer<typeof TaskBatchBody>

/**
 * One run of `POST /api/v1/batch`: like a `BatchItem`, naming its task.
 *
 * @example
 * ```ts
 * MixedBatchItem.parse({ task: "send-email", payload: { to: "a@example.com" } })
 * ```
 */
export const MixedBatchItem = z.strictObject({
  task: TaskId,
  payload: z.unknown().optional(),
  options: TriggerOptions.optional(),
})
export type MixedBatchItem = z.infer<typeof MixedBatchItem>

/**
 * `POST /api/v1/batch`: 1 to 1,000 runs of any tasks of the current deployment, all or nothing.
 *
 * @example
 * ```ts
 * BatchBody.parse({ items: [{ task: "resize", payload: { id: 1 } }, { task: "notify" }] })
 * ```
 */
export const BatchBody = z.strictObject({
  items: z.array(MixedBatchItem).min(1).max(MAX_BATCH_ITEMS, `at most ${MAX_BATCH_ITEMS} items`),
})
export type BatchBody = z.infer<typeof BatchBody>

/**
 * The run of one item: `created` is false when its idempotency key named an existing run.
 *
 * @example
 * ```ts
 * const fresh = response.runs.filter((r: BatchRun) => r.created)
 * ```
 */
export const BatchRun = z.object({ id: RunId, taskId: TaskId, created: z.boolean() })
export type BatchRun = z.infer<typeof BatchRun>

/**
 * A batch's runs in item order (201 when at least one run was created, else 200).
 *
 * @example
 * ```ts
 * const { runs } = BatchResponse.parse(await res.json())
 * ```
 */
export const BatchResponse = z.object({ runs: z.array(BatchRun) })
export type BatchResponse = z.infer<typeof BatchResponse>
