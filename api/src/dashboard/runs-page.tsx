/** @jsxImportSource hono/jsx */
import { RUN_STATUSES, type RunRow } from "@helmr/migrations/rows"
import { Badge, EmptyState, ErrorBox, type FieldIssue, Time } from "./components.tsx"
import type { OperatorSession, Scope } from "./dashboard-env.ts"
import { formatDuration } from "./format.ts"
import { Page } from "./layout.tsx"

/** What the filter form shows (the raw query values, so a bad one can be corrected). */
export interface RunFilters {
  status: string
  task: string
  tag: string
  schedule: string
  from: string
  to: string
}

export function RunsPage(props: {
  session: OperatorSession
  scope: Scope
  flash: string | null
  filters: RunFilters
  runs: RunRow[]
  nextCursor: string | null
  issues?: FieldIssue[] | undefined
  filtered: boolean
}) {
  const { scope, filters } = props
  const next = new URLSearchParams(
    Object.entries(filters).filter(([, v]) => v !== "") as [string, string][],
  )
  if (props.nextCursor) next.set("cursor", props.nextCursor)
  return (
    <Page title="Runs" session={props.session} scope={scope} section="runs" flash={props.flash}>
      <div class="actions">
        <h1>Runs</h1>
        <a class="button secondary" href={`${scope.base}/trigger`}>
          Trigger a task
        </a>
      </div>
      <form method="get" action={`${scope.base}/runs`} class="panel" aria-label="Filter runs">
        <div class="filters">
          <div>
            <label for="f-status">Status</label>
            <select id="f-status" name="status">
              <option value="">any</option>
              {RUN_STATUSES.map((s) => (
                <option value={s} selected={filters.status === s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <Field id="f-task" name="task" label="Task" value={filters.task} />
          <Field id="f-tag" name="tag" label="Tag" value={filters.tag} />
          <Field id="f-schedule" name="schedule" label="Schedule id" value={filters.schedule} />
          <Field
            id="f-from"
            name="from"
            label="Created from (UTC)"
            value={filters.from}
            type="datetime-local"
          />
          <Field
            id="f-to"
            name="to"
            label="Created before (UTC)"
            value={filters.to}
            type="datetime-local"
          />
        </div>
        <div class="actions">
          <button type="submit">Filter</button>
          <a href={`${scope.base}/runs`}>Clear</a>
        </div>
      </form>
      {props.issues ? (
        <ErrorBox message="Some filters are not valid" issues={props.issues} />
      ) : null}
      {props.runs.length === 0 ? (
        props.filtered ? (
          <p class="empty">No run matches these filters.</p>
        ) : (
          <EmptyState
            title="No runs yet"
            commands={[
              `export HELMR_API_URL=<this server's URL> HELMR_API_KEY=hk_${scope.environment.environmentSlug}_…`,
              `helmr deploy --env ${scope.environment.environmentSlug} --dir ./my-tasks --promote`,
              `curl -X POST $HELMR_API_URL/api/v1/tasks/<task id>/trigger -H "Authorization: Bearer $HELMR_API_KEY" -d '{"payload":{}}'`,
            ]}
          >
            <p>
              Runs appear here when a task is triggered (from this dashboard, the SDK client or the
              HTTP API) or a schedule fires. Deploy tasks first, then trigger one:
            </p>
          </EmptyState>
        )
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Runs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Task</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col" class="hide-narrow">
                  Duration
                </th>
                <th scope="col" class="hide-narrow">
                  Tags
                </th>
              </tr>
            </thead>
            <tbody>
              {props.runs.map((run) => (
                <tr>
                  <td>
                    <a class="mono" href={`${scope.base}/runs/${run.id}`}>
                      {run.id}
                    </a>
                  </td>
                  <td>{run.taskId}</td>
                  <td>
                    <Badge value={run.status} />
                  </td>
                  <td>
                    <Time at={run.createdAt} />
                  </td>
                  <td class="hide-narrow">
                    {run.startedAt && run.finishedAt
                      ? formatDuration(run.finishedAt.getTime() - run.startedAt.getTime())
                      : "—"}
                  </td>
                  <td class="hide-narrow">{run.tags.join(", ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        {props.filtered || props.nextCursor ? (
          <a href={`${scope.base}/runs?${new URLSearchParams(withoutCursor(filters))}`}>Newest</a>
        ) : null}
        {props.nextCursor ? <a href={`${scope.base}/runs?${next}`}>Older runs</a> : null}
      </nav>
    </Page>
  )
}

function withoutCursor(filters: RunFilters): [string, string][] {
  return Object.entries(filters).filter(([, v]) => v !== "") as [string, string][]
}

function Field(props: { id: string; name: string; label: string; value: string; type?: string }) {
  return (
    <div>
      <label for={props.id}>{props.label}</label>
      <input id={props.id} name={props.name} type={props.type ?? "text"} value={props.value} />
    </div>
  )
}
