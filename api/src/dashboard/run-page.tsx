/** @jsxImportSource hono/jsx */
import { FINAL_RUN_STATUSES, type RunEventRow, type RunRow } from "@helmr/migrations/rows"
import { Json, Time } from "./components.tsx"
import type { OperatorSession, Scope } from "./dashboard-env.ts"
import { formatDuration } from "./format.ts"
import { Csrf, Page } from "./layout.tsx"
import type { RunStream } from "./run-streams.ts"

export interface RunPageProps {
  session: OperatorSession
  scope: Scope
  flash: string | null
  run: RunRow
  events: RunEventRow[]
  streams: RunStream[]
}

/** One line of the log as the page script writes it too (dashboard.js `describeEvent`). */
function describe(event: RunEventRow): string {
  const data = event.data as { to?: string } | null
  if (event.type === "transition" && data?.to) return `→ ${data.to}`
  if (event.message) return event.level ? `[${event.level}] ${event.message}` : event.message
  return `${event.type} ${event.data ? JSON.stringify(event.data) : ""}`
}

export function RunPage(props: RunPageProps) {
  const { run, scope, events } = props
  const final = FINAL_RUN_STATUSES.includes(run.status)
  const lastId = events.at(-1)?.id ?? "0"
  const live = `${scope.base}/runs/${run.id}/live?lastEventId=${lastId}`
  return (
    <Page title={`Run ${run.id}`} session={props.session} scope={scope} section="runs">
      {props.flash ? (
        <p class="flash" role="status">
          {props.flash}
        </p>
      ) : null}
      <p>
        <a href={`${scope.base}/runs`}>← Runs</a>
      </p>
      <h1>
        {run.taskId} <span class="mono muted">{run.id}</span>{" "}
        <span id="run-status" class={`badge s-${run.status}`} role="status" aria-live="polite">
          {run.status}
        </span>
      </h1>
      <RunActions {...props} />
      <RunDetails {...props} />
      <section aria-labelledby="log-title" data-live-run={final ? undefined : live}>
        <h2 id="log-title">Logs and events</h2>
        <ol class="log" data-log aria-live="polite" tabindex={0} aria-label="Run log">
          {events.map((e) => (
            <li data-id={String(e.id)} class={`ev-${e.type} lvl-${e.level ?? "info"}`}>
              {`${e.createdAt.toISOString().slice(11, 23)}  ${describe(e)}`}
            </li>
          ))}
        </ol>
        {events.length === 0 ? (
          <p class="muted" data-log-empty>
            No events yet.
          </p>
        ) : null}
      </section>
    </Page>
  )
}

function RunActions(props: RunPageProps) {
  const { run, scope, session } = props
  const final = FINAL_RUN_STATUSES.includes(run.status)
  return (
    <div class="actions" id="run-actions">
      {!final ? (
        <form
          class="inline"
          method="post"
          action={`${scope.base}/runs/${run.id}/cancel`}
          data-confirm={`Cancel run ${run.id}?`}
        >
          <Csrf session={session} />
          <button class="danger" type="submit">
            {run.cancelRequestedAt ? "Cancel requested…" : "Cancel run"}
          </button>
        </form>
      ) : null}
      <form class="inline" method="post" action={`${scope.base}/runs/${run.id}/replay`}>
        <Csrf session={session} />
        <button class="secondary" type="submit">
          Replay
        </button>
      </form>
    </div>
  )
}

function RunDetails(props: RunPageProps) {
  const { run, scope, events, streams } = props
  const error = run.error as { name?: string; message?: string; stack?: string } | null
  const attempts = events.filter((e) => e.type === "started")
  return (
    <div id="run-details">
      <div class="grid2">
        <section class="panel" aria-labelledby="facts-title">
          <h2 id="facts-title">Run</h2>
          <dl class="facts">
            <dt>Created</dt>
            <dd>
              <Time at={run.createdAt} />
            </dd>
            <dt>Started</dt>
            <dd>
              <Time at={run.startedAt} />
            </dd>
            <dt>Finished</dt>
            <dd>
              <Time at={run.finishedAt} />
            </dd>
            <dt>Duration</dt>
            <dd>
              {run.startedAt && run.finishedAt
                ? formatDuration(run.finishedAt.getTime() - run.startedAt.getTime())
                : "—"}
            </dd>
            <dt>Attempt</dt>
            <dd>
              {run.attempt} of {run.maxAttempts}
            </dd>
            <dt>Deployment</dt>
            <dd>
              <a class="mono" href={`${scope.base}/deployments/${run.deploymentId}`}>
                {run.deploymentId}
              </a>
            </dd>
            {run.scheduleId ? (
              <>
                <dt>Schedule</dt>
                <dd>
                  <a class="mono" href={`${scope.base}/schedules/${run.scheduleId}`}>
                    {run.scheduleId}
                  </a>{" "}
                  {run.slotAt ? (
                    <>
                      slot <Time at={run.slotAt} />
                    </>
                  ) : null}
                </dd>
              </>
            ) : null}
            {run.replayOf ? (
              <>
                <dt>Replay of</dt>
                <dd>
                  <a class="mono" href={`${scope.base}/runs/${run.replayOf}`}>
                    {run.replayOf}
                  </a>
                </dd>
              </>
            ) : null}
            <dt>Session</dt>
            <dd class="mono">{run.sessionId}</dd>
            <dt>Tags</dt>
            <dd>{run.tags.length ? run.tags.join(", ") : "—"}</dd>
            <dt>Idempotency key</dt>
            <dd class="mono">{run.idempotencyKey ?? "—"}</dd>
          </dl>
        </section>
        <section class="panel" aria-labelledby="attempts-title">
          <h2 id="attempts-title">Attempts</h2>
          {attempts.length === 0 ? (
            <p class="muted">Not started yet.</p>
          ) : (
            <ol>
              {attempts.map((e) => (
                <li>
                  attempt {String((e.data as { attempt?: number } | null)?.attempt ?? "?")} started{" "}
                  <Time at={e.createdAt} />
                </li>
              ))}
            </ol>
          )}
          <h2>Metadata</h2>
          <Json value={Object.keys(run.metadata).length ? run.metadata : null} label="Metadata" />
        </section>
      </div>
      <section aria-labelledby="payload-title">
        <h2 id="payload-title">Payload</h2>
        <Json value={run.payload} label="Payload" />
      </section>
      <section aria-labelledby="output-title">
        <h2 id="output-title">Output</h2>
        <Json value={run.output} label="Output" />
      </section>
      {error ? (
        <section aria-labelledby="error-title">
          <h2 id="error-title">Error</h2>
          <div class="error-box">
            <strong>{error.name ?? "Error"}</strong>: {error.message ?? ""}
          </div>
          {error.stack ? <pre tabindex={0}>{error.stack}</pre> : null}
        </section>
      ) : null}
      <section aria-labelledby="streams-title">
        <h2 id="streams-title">Streams</h2>
        {streams.length === 0 ? (
          <p class="muted">This run's session has written no stream.</p>
        ) : (
          streams.map((s) => (
            <>
              <h3 class="mono">
                {s.name} <span class="muted">({s.chunks} chunks)</span>
              </h3>
              <pre tabindex={0}>{s.text}</pre>
            </>
          ))
        )}
      </section>
    </div>
  )
}
