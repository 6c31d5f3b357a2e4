import { OperationError } from "@helmr/migrations/queries/operation-error"
import type { TaskCatalog } from "@helmr/migrations/queries/task-catalog"
import type { RunRow } from "@helmr/migrations/rows"
import { IDENTIFIER_PATTERN, ListRunsQuery, TriggerBody } from "@helmr/sdk/contract"
import { type Context, Hono } from "hono"
import { streamSSE } from "hono/streaming"
import { z } from "zod"
import { bearerToken, type KeyResolver, unauthorized } from "../auth.ts"
import type { ApiDeps, AppEnv } from "../env.ts"
import { ApiError, notFound } from "../errors.ts"
import { validJson, validParams, validQuery } from "../http/validate.ts"
import { cancelRun } from "../runs/cancel-run.ts"
import { streamRunEvents } from "../runs/event-stream.ts"
import { listRuns } from "../runs/list-runs.ts"
import { replayInput } from "../runs/replay-run.ts"
import type { RunBatcher } from "../runs/run-batcher.ts"
import type { RunNotifier } from "../runs/run-notifier.ts"
import { toRun, toRunSummary } from "../runs/serialize.ts"
import { StaleCaller, type TriggerInput, triggerRun } from "../runs/trigger-run.ts"

export interface RunServices {
  catalog: TaskCatalog
  notifier: RunNotifier
  batcher: RunBatcher
  keys: KeyResolver
}

const EVENT_ID = /^\d{1,18}$/
const TaskParams = z.object({ taskId: z.string() })
const RunParams = z.object({ runId: z.string() })
const NoBody = z.strictObject({})
const EventsQuery = z.object({ lastEventId: z.string().optional() })

/** Triggering tasks and reading, canceling, replaying and following runs of the environment. */
export function runsRoutes(deps: ApiDeps, services: RunServices): Hono<AppEnv> {
  const { notifier, keys } = services
  const loadRun = async (environmentId: string, runId: string): Promise<RunRow> => {
    const [run] = await deps.sql<RunRow[]>`
      select * from runs where id = ${runId} and environment_id = ${environmentId}`
    if (!run) throw notFound(`run ${runId}`)
    return run
  }
  /**
   * triggerRun as the request's caller. The caller of a trigger may come from the key cache, so
   * when the insert finds the key or the deployment stale, or the answer would be a 404 or 422
   * (a task or schema of an older deployment), the key is resolved afresh and the trigger tried
   * again: no answer rests on a cached key.
   */
  const triggerAs = async (c: Context<AppEnv>, input: TriggerInput) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await triggerRun(deps, services, c.get("caller"), input)
      } catch (error) {
        const stale = error instanceof StaleCaller
        // The trigger's checks are shared with the runner and refuse with OperationError.
        const mayBeStale =
          (error instanceof ApiError || error instanceof OperationError) &&
          (error.status === 404 || error.status === 422)
        if (!stale && !(mayBeStale && attempt === 0)) throw error
        const token = bearerToken(c) ?? ""
        keys.forget(token)
        const fresh = stale && error.refused === "key" ? null : await keys.resolve(token)
        if (!fresh) throw unauthorized()
        c.set("caller", fresh)
        if (attempt >= 2) {
          throw new ApiError(409, "conflict", "the environment's deployment changed; retry")
        }
      }
    }
  }

  return new Hono<AppEnv>()
    .post("/tasks/:taskId/trigger", validParams(TaskParams), validJson(TriggerBody), async (c) => {
      const { taskId } = c.req.valid("param")
      if (!IDENTIFIER_PATTERN.test(taskId)) throw notFound(`task '${taskId}'`)
      const body = c.req.valid("json")
      const { id, created } = await triggerAs(c, {
        taskId,
        payload: body.payload,
        options: body.options ?? {},
      })
      if (created) {
        c.get("metrics").triggered.inc({ source: "api" })
        return c.json({ id }, 201)
      }
      return c.json(toRun(await loadRun(c.get("caller").environmentId, id)), 200)
    })
    .get("/runs", validQuery(ListRunsQuery, ["status", "tag"]), async (c) => {
      const query = c.req.valid("query")
      const page = await listRuns(deps.sql, c.get("caller").environmentId, query)
      return c.json({ data: page.rows.map(toRunSummary), nextCursor: page.nextCursor })
    })
    .get("/runs/:runId", validParams(RunParams), async (c) => {
      const { runId } = c.req.valid("param")
      return c.json(toRun(await loadRun(c.get("caller").environmentId, runId)))
    })
    .post("/runs/:runId/cancel", validParams(RunParams), validJson(NoBody), async (c) => {
      const { runId } = c.req.valid("param")
      const run = await cancelRun(deps, c.get("caller").environmentId, runId)
      return c.json(toRun(run))
    })
    .post("/runs/:runId/replay", validParams(RunParams), validJson(NoBody), async (c) => {
      const { runId } = c.req.valid("param")
      const original = await loadRun(c.get("caller").environmentId, runId)
      const { id } = await triggerAs(c, replayInput(original))
      c.get("metrics").triggered.inc({ source: "api" })
      return c.json({ id }, 201)
    })
    .get("/runs/:runId/events", validParams(RunParams), validQuery(EventsQuery), async (c) => {
      const run = await loadRun(c.get("caller").environmentId, c.req.valid("param").runId)
      const resumeFrom = c.req.header("last-event-id") ?? c.req.valid("query").lastEventId ?? "0"
      if (!EVENT_ID.test(resumeFrom)) {
        throw new ApiError(422, "validation_failed", "Last-Event-ID must be an event id", [
          { path: "Last-Event-ID", message: "must be a non-negative integer" },
        ])
      }
      const options = {
        pollMs: deps.sse?.pollMs ?? 1000,
        heartbeatMs: deps.sse?.heartbeatMs ?? 8000,
      }
      return streamSSE(c, (stream) =>
        streamRunEvents(stream, deps.sql, notifier, run.id, BigInt(resumeFrom), options),
      )
    })
}
