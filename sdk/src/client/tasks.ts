import type { BatchResponse } from "../contract/batch.ts"
import { BatchResponseAnswer } from "./answers.ts"
import { type TriggerRunOptions, toWireItem } from "./runs.ts"
import type { Transport } from "./transport.ts"

/** One item of `tasks.batchTrigger`: its payload and options. */
export interface TaskBatchItem {
  payload?: unknown
  options?: TriggerRunOptions
}

export function tasksNamespace(t: Transport) {
  return {
    /**
     * Starts up to 1,000 runs of one task in one request, all or nothing: one bad item creates
     * no run and the `ApiError` names it (`items[3].payload.prNumber`). Runs come back in item
     * order; `created` is false for an item whose idempotency key named an existing run.
     *
     * @example
     * const { runs } = await client.tasks.batchTrigger("review-pr", [
     *   { payload: { prNumber: 41 } },
     *   { payload: { prNumber: 42 }, options: { idempotencyKey: "pr-42", concurrencyKey: "org_7" } },
     * ])
     */
    async batchTrigger(taskId: string, items: readonly TaskBatchItem[]): Promise<BatchResponse> {
      const body = { items: items.map((i) => toWireItem(i.payload, i.options)) }
      const path = `/tasks/${encodeURIComponent(taskId)}/batch`
      return (await t.json("POST", path, BatchResponseAnswer, { body })).data
    },
  }
}

export type TasksNamespace = ReturnType<typeof tasksNamespace>
