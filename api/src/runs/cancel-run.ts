import { cancelRunById } from "@helmr/migrations/queries/cancel-run"
import type { RunRow } from "@helmr/migrations/rows"
import type { ApiDeps } from "../env.ts"
import { ApiError, notFound } from "../errors.ts"

/**
 * Cancels a run of the environment through the one cancel path (migrations
 * `queries/cancel-run.ts`, also used by the dispatcher's overlap `cancelPrevious`): queued and
 * waiting runs end at once, starting and running ones get a cancel request their runner acts on.
 * Already `canceled` returns the run (cancel is idempotent); other final statuses are 409.
 */
export async function cancelRun(
  deps: ApiDeps,
  environmentId: string,
  runId: string,
): Promise<RunRow> {
  const outcome = await cancelRunById(deps.sql, deps.valkey, deps.keys, runId, {
    environmentId,
    reason: "canceled through the API",
  })
  switch (outcome.kind) {
    case "canceled":
    case "requested":
    case "already":
      return outcome.run
    case "missing":
      throw notFound(`run ${runId}`)
    case "finished":
      throw new ApiError(409, "conflict", `run ${runId} already finished: ${outcome.run.status}`, {
        status: outcome.run.status,
      })
    case "busy":
      throw new ApiError(409, "conflict", `run ${runId} kept changing status; try again`)
    default:
      return assertNever(outcome)
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected cancel outcome ${JSON.stringify(value)}`)
}
