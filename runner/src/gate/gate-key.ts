/**
 * A concurrency gate: the runs of one environment, queue and concurrency key. Environment ids
 * and queue names cannot contain `|`; the key comes last, so the string is unambiguous.
 */
export interface GatedRun {
  environmentId: string
  queue: string | null
  taskId: string
  concurrencyKey: string | null
  concurrencyLimit: number | null
}

/** The gate a run passes through, or null when its queue is unlimited. */
export function gateOf(run: GatedRun): { key: string; limit: number; queue: string } | null {
  if (run.concurrencyLimit === null) return null
  const queue = run.queue ?? `task:${run.taskId}`
  return {
    key: `${run.environmentId}|${queue}|${run.concurrencyKey ?? ""}`,
    limit: run.concurrencyLimit,
    queue,
  }
}
