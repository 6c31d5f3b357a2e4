import { transitionRun } from "@helmr/migrations/queries/runs"
import type { WaitpointRow } from "@helmr/migrations/rows"
import { enqueueRun } from "@helmr/migrations/valkey"
import type { TokenCompletion } from "@helmr/sdk/contract"
import type { ApiDeps } from "../env.ts"
import { ApiError, notFound } from "../errors.ts"
import type { RunNotifier } from "../runs/run-notifier.ts"

/**
 * Completes a pending token waitpoint of the environment with `data`. A token completed already
 * is a 409 whose details carry the first completion (the caller learns what the task received);
 * a token whose timeout passed is 409 too (the dispatcher owns timing it out). Afterwards, a run left `waiting` with no other pending waitpoint is moved
 * back to `queued` and enqueued, so a runner picks it up and resumes it.
 */
export async function completeToken(
  deps: ApiDeps,
  notifier: RunNotifier,
  environmentId: string,
  tokenId: string,
  data: unknown,
): Promise<TokenCompletion> {
  const row = await deps.sql.begin(async (tx) => {
    const [token] = await tx<WaitpointRow[]>`
      select * from waitpoints
      where id = ${tokenId} and environment_id = ${environmentId} and kind = 'token'
      for update`
    if (!token) throw notFound(`token ${tokenId}`)
    if (token.status === "completed") {
      throw new ApiError(
        409,
        "conflict",
        `token ${tokenId} was completed already`,
        toCompletion(token),
      )
    }
    if (token.status === "timed_out" || (token.timeoutAt && token.timeoutAt <= new Date())) {
      throw new ApiError(409, "conflict", `token ${tokenId} timed out`, { status: "timed_out" })
    }
    const [done] = await tx<WaitpointRow[]>`
      update waitpoints
      set status = 'completed', data = ${data === undefined ? null : tx.json(data as never)},
        completed_at = now()
      where id = ${tokenId}
      returning *`
    if (!done) throw new Error("token update returned no row")
    if (done.runId) {
      await tx`insert into run_events (run_id, type, data)
        values (${done.runId}, 'token_completed', ${tx.json({ tokenId })})`
    }
    return done
  })
  if (row.runId) await resumeRun(deps, notifier, row.runId)
  return toCompletion(row)
}

function toCompletion(token: WaitpointRow): TokenCompletion {
  return {
    id: token.id,
    status: "completed",
    data: token.data ?? null,
    completedAt: (token.completedAt ?? new Date()).toISOString(),
  }
}

async function resumeRun(deps: ApiDeps, notifier: RunNotifier, runId: string): Promise<void> {
  const [pending] = await deps.sql`
    select 1 from waitpoints where run_id = ${runId} and status = 'pending' limit 1`
  if (!pending) {
    const queued = await transitionRun(deps.sql, runId, ["waiting"], "queued", {
      availableAt: new Date(),
    })
    if (queued) {
      await enqueueRun(deps.valkey, deps.keys, runId).catch((error: unknown) => {
        deps.logger.error({ err: error, runId }, "enqueue after token completion failed")
      })
    }
  }
  await notifier.publish(runId, "token_completed")
}
