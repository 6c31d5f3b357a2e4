/** @jsxImportSource hono/jsx */
import type { Schedule } from "@helmr/sdk/contract"
import { Badge, EmptyState } from "./components.tsx"
import type { OperatorSession, Scope } from "./dashboard-env.ts"
import { formatInZone, formatUtc } from "./format.ts"
import { Page } from "./layout.tsx"
import { describeCron } from "./schedule-preview.ts"

/** A fire time in the schedule's own zone, with UTC beneath. */
export function FireTime(props: { at: string | null; timezone: string }) {
  if (!props.at) return <span class="muted">—</span>
  const date = new Date(props.at)
  if (props.timezone === "UTC") return <time datetime={props.at}>{formatUtc(date)}</time>
  return (
    <time datetime={props.at}>
      {formatInZone(date, props.timezone)}
      <br />
      <span class="muted">{formatUtc(date)}</span>
    </time>
  )
}

export function KindBadge(props: { kind: Schedule["kind"] }) {
  return props.kind === "declarative" ? (
    <Badge value="declarative" label="declarative · owned by source" />
  ) : (
    <Badge value="imperative" />
  )
}

export function SchedulesPage(props: {
  session: OperatorSession
  scope: Scope
  flash: string | null
  schedules: Schedule[]
}) {
  const { scope } = props
  return (
    <Page
      title="Schedules"
      session={props.session}
      scope={scope}
      section="schedules"
      flash={props.flash}
    >
      <div class="actions">
        <h1>Schedules</h1>
        <a class="button secondary" href={`${scope.base}/schedules/new`}>
          New schedule
        </a>
      </div>
      {props.schedules.length === 0 ? (
        <EmptyState
          title="No schedules yet"
          commands={[
            `// in your task project: a declarative schedule, owned by source`,
            `export const nightly = schedules.task({ id: "nightly", sandbox, cron: { pattern: "0 2 * * *", timezone: "UTC" }, run })`,
            `helmr deploy --env ${scope.environment.environmentSlug} --dir ./my-tasks --promote`,
          ]}
        >
          <p>
            Declare a schedule in code with <code>schedules.task</code> and deploy, or create an
            imperative one for a scheduled task with <strong>New schedule</strong>.
          </p>
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Schedules of this environment</caption>
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col">Cron</th>
                <th scope="col">Kind</th>
                <th scope="col">State</th>
                <th scope="col">Next fire (schedule's zone / UTC)</th>
              </tr>
            </thead>
            <tbody>
              {props.schedules.map((s) => (
                <tr>
                  <td>
                    <a href={`${scope.base}/schedules/${s.id}`}>{s.task}</a>
                    <br />
                    <span class="muted mono">{s.deduplicationKey}</span>
                  </td>
                  <td>
                    <code>{s.cron}</code> <span class="muted">{s.timezone}</span>
                    <br />
                    <span class="muted">{describeCron(s.cron)}</span>
                  </td>
                  <td>
                    <KindBadge kind={s.kind} />
                  </td>
                  <td>
                    <Badge value={s.active ? "active" : "inactive"} />
                  </td>
                  <td>
                    <FireTime at={s.nextRun} timezone={s.timezone} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  )
}
