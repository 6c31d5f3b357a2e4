/** @jsxImportSource hono/jsx */
import { listTimezones } from "@helmr/dispatcher/schedule"
import { CreateScheduleBody, Manifest, UpdateScheduleBody } from "@helmr/sdk/contract"
import { type Context, Hono } from "hono"
import { findDeployment } from "../deployments/queries.ts"
import type { ApiDeps } from "../env.ts"
import { ApiError, asApiError, notFound } from "../errors.ts"
import { toFieldIssues } from "../http/validate.ts"
import type { RunServices } from "../routes/runs.ts"

type DashboardServices = Pick<RunServices, "catalog" | "notifier" | "batcher">

import { scheduleMath } from "@helmr/dispatcher/schedule/math"
import {
  createScheduleOp,
  declarative,
  deleteScheduleOp,
  findSchedule,
  type ScheduleContext,
  type ScheduleViewRow,
  scheduleViewFrom,
  setScheduleActiveOp,
  toSchedule,
  updateScheduleOp,
} from "@helmr/migrations/queries/schedules"
import { listSlots } from "../schedules/schedule-slots.ts"
import { type FieldIssue, issuesOf } from "./components.tsx"
import { setFlash, takeFlash } from "./cookies.ts"
import type { DashEnv, Scope } from "./dashboard-env.ts"
import { ScheduleFormPage, type ScheduleFormValues } from "./schedule-form.tsx"
import { SchedulePage } from "./schedule-page.tsx"
import { previewSchedule } from "./schedule-preview.ts"
import { SchedulesPage } from "./schedules-page.tsx"

const field = (form: Record<string, unknown>, name: string) =>
  typeof form[name] === "string" ? (form[name] as string).trim() : ""

/** The policy fields of the form, as the API's body takes them (empty: the default). */
function policyOf(values: ScheduleFormValues) {
  const pause = Number(values.pauseAfterFailures)
  return {
    ...(values.overlap ? { overlap: values.overlap } : {}),
    ...(values.catchupWindow ? { catchupWindow: values.catchupWindow } : {}),
    ...(values.pauseAfterFailures
      ? { pauseAfterFailures: Number.isFinite(pause) ? pause : values.pauseAfterFailures }
      : {}),
  }
}

const formValues = (form: Record<string, unknown>) => ({
  overlap: field(form, "overlap"),
  catchupWindow: field(form, "catchupWindow"),
  pauseAfterFailures: field(form, "pauseAfterFailures"),
})

/** Schedules: list, detail with slot history, and the imperative writes of the API. */
export function schedulesRoutes(deps: ApiDeps, services: DashboardServices): Hono<DashEnv> {
  const { catalog } = services
  let timezones: string[] | undefined

  const scheduledTasks = async (scope: Scope): Promise<string[]> => {
    const id = scope.caller.currentDeploymentId
    const deployment = id ? await findDeployment(deps.sql, scope.caller.environmentId, id) : null
    if (!deployment) return []
    return Manifest.parse(deployment.manifest)
      .tasks.filter((t) => t.kind === "scheduled")
      .map((t) => t.id)
  }

  const mustFind = async (scope: Scope, id: string): Promise<ScheduleViewRow> => {
    const view = await findSchedule(deps.sql, scope.caller.environmentId, id)
    if (!view) throw notFound(`schedule ${id}`)
    return view
  }

  const renderForm = async (
    c: Context<DashEnv>,
    mode: { kind: "create" } | { kind: "edit"; scheduleId: string },
    values: ScheduleFormValues,
    error?: { message: string; issues?: FieldIssue[] | undefined },
  ) => {
    timezones ??= listTimezones()
    return c.html(
      <ScheduleFormPage
        session={c.get("session")!}
        scope={c.get("scope")}
        mode={mode}
        values={values}
        tasks={await scheduledTasks(c.get("scope"))}
        timezones={timezones}
        preview={previewSchedule(values.cron, values.timezone || "UTC", new Date())}
        error={error}
      />,
      error ? 422 : 200,
    )
  }

  /** Runs a write; an ApiError the operator can act on re-renders the form with it. */
  /** The same operations the HTTP API runs, as this operator's environment. */
  const context = (scope: Scope): ScheduleContext => ({
    ...deps,
    math: scheduleMath,
    caller: scope.caller,
    taskKind: (taskId) => catalog.kindOf(scope.caller, taskId),
  })

  const formError = (thrown: unknown) => {
    const error = asApiError(thrown)
    if (!(error instanceof ApiError) || error.status >= 500) throw error
    return { message: error.message, issues: issuesOf(error.details) }
  }

  return new Hono<DashEnv>()
    .get("/schedules", async (c) => {
      const scope = c.get("scope")
      const rows = await deps.sql<ScheduleViewRow[]>`
        ${scheduleViewFrom(deps.sql)} where i.environment_id = ${scope.caller.environmentId}
        order by s.task_id, i.created_at, i.id limit 500`
      const now = new Date()
      return c.html(
        <SchedulesPage
          session={c.get("session")!}
          scope={scope}
          flash={takeFlash(c)}
          schedules={rows.map((r) => toSchedule(r, now, scheduleMath))}
        />,
      )
    })
    .get("/schedules/preview", (c) => {
      const cron = c.req.query("cron") ?? ""
      const timezone = c.req.query("timezone") || "UTC"
      return c.json(previewSchedule(cron, timezone, new Date()))
    })
    .get("/schedules/new", async (c) => {
      const [task = ""] = await scheduledTasks(c.get("scope"))
      return renderForm(
        c,
        { kind: "create" },
        {
          task,
          cron: "0 * * * *",
          timezone: "UTC",
          deduplicationKey: "",
          externalId: "",
          overlap: "allow",
          catchupWindow: "",
          pauseAfterFailures: "",
        },
      )
    })
    .post("/schedules", async (c) => {
      const scope = c.get("scope")
      const form = await c.req.parseBody()
      const values: ScheduleFormValues = {
        task: field(form, "task"),
        cron: field(form, "cron"),
        timezone: field(form, "timezone") || "UTC",
        deduplicationKey: field(form, "deduplicationKey"),
        externalId: field(form, "externalId"),
        ...formValues(form),
      }
      const body = CreateScheduleBody.safeParse({
        task: values.task,
        cron: values.cron,
        timezone: values.timezone,
        deduplicationKey: values.deduplicationKey,
        ...(values.externalId ? { externalId: values.externalId } : {}),
        ...policyOf(values),
      })
      if (!body.success) {
        const issues = toFieldIssues(body.error)
        return renderForm(c, { kind: "create" }, values, { message: "Not created", issues })
      }
      try {
        const { schedule, created } = await createScheduleOp(context(scope), body.data)
        setFlash(c, created ? "Schedule created." : "A schedule with this key existed: updated.")
        return c.redirect(`${scope.base}/schedules/${schedule.id}`, 303)
      } catch (error) {
        return renderForm(c, { kind: "create" }, values, formError(error))
      }
    })
    .get("/schedules/:id", async (c) => {
      const scope = c.get("scope")
      const view = await mustFind(scope, c.req.param("id"))
      // The API's slot ledger read (`GET /schedules/{id}/slots`) and its counters.
      const slots = await listSlots(deps.sql, view.instanceId, { limit: 50 })
      return c.html(
        <SchedulePage
          session={c.get("session")!}
          scope={scope}
          flash={takeFlash(c)}
          schedule={toSchedule(view, new Date(), scheduleMath)}
          slots={slots.data}
        />,
      )
    })
    .get("/schedules/:id/edit", async (c) => {
      const view = await mustFind(c.get("scope"), c.req.param("id"))
      if (view.kind === "declarative") throw declarative(view.id)
      const schedule = toSchedule(view, new Date(), scheduleMath)
      return renderForm(
        c,
        { kind: "edit", scheduleId: view.id },
        {
          task: view.taskId,
          cron: view.cron,
          timezone: view.timezone,
          deduplicationKey: view.deduplicationKey,
          externalId: view.externalId ?? "",
          overlap: schedule.overlap,
          catchupWindow: schedule.catchupWindow ?? "",
          pauseAfterFailures:
            schedule.pauseAfterFailures === null ? "" : String(schedule.pauseAfterFailures),
        },
      )
    })
    .post("/schedules/:id", async (c) => {
      const scope = c.get("scope")
      const current = await mustFind(scope, c.req.param("id"))
      if (current.kind === "declarative") throw declarative(current.id)
      const form = await c.req.parseBody()
      const values: ScheduleFormValues = {
        task: field(form, "task"),
        cron: field(form, "cron"),
        timezone: field(form, "timezone") || "UTC",
        deduplicationKey: current.deduplicationKey,
        externalId: field(form, "externalId"),
        ...formValues(form),
      }
      const mode = { kind: "edit" as const, scheduleId: current.id }
      // Run options are not edited here: keep them (an omitted runOptions would clear them).
      const body = UpdateScheduleBody.safeParse({
        task: values.task,
        cron: values.cron,
        timezone: values.timezone,
        externalId: values.externalId || null,
        runOptions: current.runOptions,
        ...policyOf(values),
      })
      if (!body.success) {
        const issues = toFieldIssues(body.error)
        return renderForm(c, mode, values, { message: "Not saved", issues })
      }
      try {
        await updateScheduleOp(context(scope), current.id, body.data)
        setFlash(c, "Schedule saved.")
        return c.redirect(`${scope.base}/schedules/${current.id}`, 303)
      } catch (error) {
        return renderForm(c, mode, values, formError(error))
      }
    })
    .post("/schedules/:id/:action{activate|deactivate}", async (c) => {
      const scope = c.get("scope")
      const active = c.req.param("action") === "activate"
      const schedule = await setScheduleActiveOp(context(scope), c.req.param("id"), active)
      setFlash(c, active ? "Schedule activated." : "Schedule deactivated.")
      return c.redirect(`${scope.base}/schedules/${schedule.id}`, 303)
    })
    .post("/schedules/:id/delete", async (c) => {
      const scope = c.get("scope")
      const view = await mustFind(scope, c.req.param("id"))
      await deleteScheduleOp(context(scope), view.id)
      setFlash(c, `Schedule ${view.deduplicationKey} deleted.`)
      return c.redirect(`${scope.base}/schedules`, 303)
    })
}
