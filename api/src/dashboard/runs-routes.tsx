/** @jsxImportSource hono/jsx */
import type { RunEventRow } from "@helmr/migrations/rows"
import { ListRunsQuery, Manifest, TriggerBody } from "@helmr/sdk/contract"
import { type Context, Hono } from "hono"
import { streamSSE } from "hono/streaming"
import { findDeployment } from "../deployments/queries.ts"
import type { ApiDeps } from "../env.ts"
import { ApiError, asApiError } from "../errors.ts"
import { toFieldIssues } from "../http/validate.ts"
import type { RunServices } from "../routes/runs.ts"

type DashboardServices = Pick<RunServices, "catalog" | "notifier" | "batcher">

import { cancelRun } from "../runs/cancel-run.ts"
import { streamRunEvents } from "../runs/event-stream.ts"
import { findRun } from "../runs/find-run.ts"
import { listRuns } from "../runs/list-runs.ts"
import { replayRun } from "../runs/replay-run.ts"
import { triggerRun } from "../runs/trigger-run.ts"
import { type FieldIssue, issuesOf } from "./components.tsx"
import { setFlash, takeFlash } from "./cookies.ts"
import type { DashEnv, Scope } from "./dashboard-env.ts"
import { fromLocalInput } from "./format.ts"
import { RunPage } from "./run-page.tsx"
import { listRunStreams } from "./run-streams.ts"
import { type RunFilters, RunsPage } from "./runs-page.tsx"
import { TriggerPage, type TriggerTask } from "./trigger-page.tsx"

const EVENT_ID = /^\d{1,18}$/
// A run page renders at most this many events; the live log continues after the last one.
const PAGE_EVENTS = 2000

/** Runs: list with filters, the run page (live), cancel, replay, trigger. */
export function runsRoutes(deps: ApiDeps, services: DashboardServices): Hono<DashEnv> {
  const { catalog, notifier } = services

  const tasksOf = async (scope: Scope): Promise<TriggerTask[]> => {
    const id = scope.caller.currentDeploymentId
    const deployment = id ? await findDeployment(deps.sql, scope.caller.environmentId, id) : null
    if (!deployment) return []
    return Manifest.parse(deployment.manifest).tasks.map((t) => ({
      id: t.id,
      kind: t.kind,
      payloadSchema: t.payloadSchema,
    }))
  }

  const renderTrigger = async (
    c: Context<DashEnv>,
    taskId: string | undefined,
    payload: string,
    error?: { message: string; issues?: FieldIssue[] | undefined },
  ) => {
    const scope = c.get("scope")
    const tasks = await tasksOf(scope)
    const selected = tasks.find((t) => t.id === taskId) ?? null
    return c.html(
      <TriggerPage
        session={c.get("session")!}
        scope={scope}
        tasks={tasks}
        selected={selected}
        payload={payload}
        error={error}
      />,
      error ? 422 : 200,
    )
  }

  return new Hono<DashEnv>()
    .get("/runs", async (c) => {
      const scope = c.get("scope")
      const q = (name: string) => c.req.query(name)?.trim() ?? ""
      const filters: RunFilters = {
        status: q("status"),
        task: q("task"),
        tag: q("tag"),
        schedule: q("schedule"),
        from: q("from"),
        to: q("to"),
      }
      const issues: FieldIssue[] = []
      const from = fromLocalInput(filters.from)
      const to = fromLocalInput(filters.to)
      if (from === null) issues.push({ path: "from", message: "must be a date and time" })
      if (to === null) issues.push({ path: "to", message: "must be a date and time" })
      // The API's own query schema: the same filters, the same rules.
      const parsed = ListRunsQuery.safeParse({
        ...(filters.status ? { status: [filters.status] } : {}),
        ...(filters.task ? { task: filters.task } : {}),
        ...(filters.tag ? { tag: [filters.tag] } : {}),
        ...(filters.schedule ? { schedule: filters.schedule } : {}),
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
        ...(q("cursor") ? { cursor: q("cursor") } : {}),
        limit: 25,
      })
      if (!parsed.success) issues.push(...toFieldIssues(parsed.error, undefined, "(query)"))
      const filtered = Object.values(filters).some((v) => v !== "") || q("cursor") !== ""
      const page =
        issues.length === 0 && parsed.success
          ? await listRuns(deps.sql, scope.caller.environmentId, parsed.data).catch(
              (error: unknown) => {
                // A cursor from another filter set, or made up: say so instead of a 500.
                if (error instanceof ApiError) {
                  issues.push({ path: "cursor", message: error.message })
                  return { rows: [], nextCursor: null }
                }
                throw error
              },
            )
          : { rows: [], nextCursor: null }
      return c.html(
        <RunsPage
          session={c.get("session")!}
          scope={scope}
          flash={takeFlash(c)}
          filters={filters}
          runs={page.rows}
          nextCursor={page.nextCursor}
          issues={issues.length ? issues : undefined}
          filtered={filtered}
        />,
        issues.length ? 422 : 200,
      )
    })
    .get("/runs/:runId", async (c) => {
      const scope = c.get("scope")
      const run = await findRun(deps.sql, scope.caller.environmentId, c.req.param("runId"))
      const events = await deps.sql<RunEventRow[]>`
        select * from run_events where run_id = ${run.id} order by id limit ${PAGE_EVENTS}`
      return c.html(
        <RunPage
          session={c.get("session")!}
          scope={scope}
          flash={takeFlash(c)}
          run={run}
          events={events}
          streams={await listRunStreams(deps.sql, run.sessionId)}
        />,
      )
    })
    .get("/runs/:runId/live", async (c) => {
      const scope = c.get("scope")
      const run = await findRun(deps.sql, scope.caller.environmentId, c.req.param("runId"))
      const resumeFrom = c.req.header("last-event-id") ?? c.req.query("lastEventId") ?? "0"
      if (!EVENT_ID.test(resumeFrom)) {
        throw new ApiError(422, "validation_failed", "lastEventId must be an event id")
      }
      const options = {
        pollMs: deps.sse?.pollMs ?? 1000,
        heartbeatMs: deps.sse?.heartbeatMs ?? 8000,
      }
      return streamSSE(c, (stream) =>
        streamRunEvents(stream, deps.sql, notifier, run.id, BigInt(resumeFrom), options),
      )
    })
    .post("/runs/:runId/cancel", async (c) => {
      const scope = c.get("scope")
      const run = await cancelRun(deps, scope.caller.environmentId, c.req.param("runId"))
      setFlash(
        c,
        run.status === "canceled" ? "Run canceled." : "Cancel requested: the runner stops the run.",
      )
      return c.redirect(`${scope.base}/runs/${run.id}`, 303)
    })
    .post("/runs/:runId/replay", async (c) => {
      const scope = c.get("scope")
      const run = await replayRun(deps, services, scope.caller, c.req.param("runId"))
      setFlash(c, `Replay started: ${run.id}.`)
      return c.redirect(`${scope.base}/runs/${run.id}`, 303)
    })
    .get("/trigger", (c) => renderTrigger(c, c.req.query("task"), "{\n  \n}"))
    .post("/tasks/:taskId/trigger", async (c) => {
      const scope = c.get("scope")
      const taskId = c.req.param("taskId")
      const form = await c.req.parseBody()
      const text = typeof form.payload === "string" ? form.payload : ""
      const tags = typeof form.tags === "string" ? form.tags.split(",").map((t) => t.trim()) : []
      let payload: unknown
      if (text.trim() !== "") {
        try {
          payload = JSON.parse(text)
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error)
          return renderTrigger(c, taskId, text, { message: `The payload is not JSON: ${reason}` })
        }
      }
      // The API's trigger body schema, then the API's trigger: the same checks as POST /trigger.
      const body = TriggerBody.safeParse({
        payload,
        options: { tags: tags.filter((t) => t !== "") },
      })
      if (!body.success) {
        const issues = toFieldIssues(body.error)
        return renderTrigger(c, taskId, text, { message: "Not triggered", issues })
      }
      try {
        const run = await triggerRun(deps, services, scope.caller, {
          taskId,
          payload: body.data.payload,
          options: body.data.options ?? {},
        })
        setFlash(c, `Run ${run.id} triggered.`)
        return c.redirect(`${scope.base}/runs/${run.id}`, 303)
      } catch (thrown) {
        const error = asApiError(thrown)
        if (!(error instanceof ApiError) || error.status >= 500) throw error
        return renderTrigger(c, taskId, text, {
          message: error.message,
          issues: issuesOf(error.details),
        })
      }
    })
    .post("/tasks/:taskId/check-payload", async (c) => {
      const scope = c.get("scope")
      const body = (await c.req.json().catch(() => null)) as { payload?: unknown } | null
      if (!body || typeof body.payload !== "string") {
        throw new ApiError(422, "validation_failed", "send { payload: <JSON text> }")
      }
      let payload: unknown
      try {
        payload = JSON.parse(body.payload)
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error)
        return c.json({ ok: false, issues: [{ path: "payload", message: `not JSON: ${reason}` }] })
      }
      const resolved = await catalog.resolve(scope.caller, c.req.param("taskId"))
      const issues = catalog.validatePayload(resolved, payload)
      return c.json({ ok: issues.length === 0, issues })
    })
}
