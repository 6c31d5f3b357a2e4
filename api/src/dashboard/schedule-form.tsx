/** @jsxImportSource hono/jsx */
import { ErrorBox, type FieldIssue } from "./components.tsx"
import type { OperatorSession, Scope } from "./dashboard-env.ts"
import { Csrf, Page } from "./layout.tsx"
import type { SchedulePreview } from "./schedule-preview.ts"

export interface ScheduleFormValues {
  task: string
  cron: string
  timezone: string
  deduplicationKey: string
  externalId: string
  overlap: string
  catchupWindow: string
  pauseAfterFailures: string
}

const OVERLAPS: { value: string; label: string }[] = [
  { value: "allow", label: "allow: start a run even if the previous one still runs" },
  { value: "skip", label: "skip: skip the slot while the previous run is active" },
  { value: "bufferOne", label: "bufferOne: keep one slot waiting for the previous run" },
  { value: "cancelPrevious", label: "cancelPrevious: cancel the previous run, start the new one" },
]

/** Create (with a deduplication key) or edit an imperative schedule, previewing as one types. */
export function ScheduleFormPage(props: {
  session: OperatorSession
  scope: Scope
  mode: { kind: "create" } | { kind: "edit"; scheduleId: string }
  values: ScheduleFormValues
  tasks: string[]
  timezones: string[]
  preview: SchedulePreview | { error: string } | null
  error?: { message: string; issues?: FieldIssue[] | undefined } | undefined
}) {
  const { scope, values, mode } = props
  const editing = mode.kind === "edit"
  const action = editing ? `${scope.base}/schedules/${mode.scheduleId}` : `${scope.base}/schedules`
  const title = editing ? "Edit schedule" : "New schedule"
  return (
    <Page title={title} session={props.session} scope={scope} section="schedules">
      <p>
        <a href={`${scope.base}/schedules`}>← Schedules</a>
      </p>
      <h1>{title}</h1>
      {props.error ? <ErrorBox message={props.error.message} issues={props.error.issues} /> : null}
      {props.tasks.length === 0 && !editing ? (
        <p class="empty">
          The current deployment has no scheduled task (<code>schedules.task</code>): an imperative
          schedule needs one. Deploy one first.
        </p>
      ) : null}
      <form
        method="post"
        action={action}
        class="panel"
        data-cron-preview={`${scope.base}/schedules/preview`}
      >
        <Csrf session={props.session} />
        <label for="task">Task</label>
        <select id="task" name="task" class="wide">
          {[...new Set([...props.tasks, ...(values.task ? [values.task] : [])])].map((t) => (
            <option value={t} selected={t === values.task}>
              {t}
            </option>
          ))}
        </select>
        <label for="cron">
          Cron <span class="hint">5 fields: minute hour day-of-month month day-of-week</span>
        </label>
        <input
          id="cron"
          name="cron"
          type="text"
          value={values.cron}
          required
          autocomplete="off"
          spellcheck={false}
        />
        <label for="timezone">
          Time zone <span class="hint">IANA name, e.g. Europe/Paris</span>
        </label>
        <input
          id="timezone"
          name="timezone"
          type="text"
          list="timezones"
          value={values.timezone}
          autocomplete="off"
        />
        <datalist id="timezones">
          {props.timezones.map((z) => (
            <option value={z} />
          ))}
        </datalist>
        {editing ? null : (
          <>
            <label for="deduplicationKey">
              Deduplication key{" "}
              <span class="hint">creating again with the same key updates the schedule</span>
            </label>
            <input
              id="deduplicationKey"
              name="deduplicationKey"
              type="text"
              value={values.deduplicationKey}
              required
            />
          </>
        )}
        <label for="externalId">
          External id <span class="hint">optional, passed to each run's payload</span>
        </label>
        <input id="externalId" name="externalId" type="text" value={values.externalId} />
        <label for="overlap">When the previous run is still active</label>
        <select id="overlap" name="overlap" class="wide">
          {OVERLAPS.map((o) => (
            <option value={o.value} selected={o.value === (values.overlap || "allow")}>
              {o.label}
            </option>
          ))}
        </select>
        <label for="catchupWindow">
          Catch-up window{" "}
          <span class="hint">optional, e.g. 5m: a slot later than this is skipped</span>
        </label>
        <input id="catchupWindow" name="catchupWindow" type="text" value={values.catchupWindow} />
        <label for="pauseAfterFailures">
          Pause after failures{" "}
          <span class="hint">optional: deactivate after this many failed runs in a row</span>
        </label>
        <input
          id="pauseAfterFailures"
          name="pauseAfterFailures"
          type="number"
          min="1"
          value={values.pauseAfterFailures}
        />
        <section id="cron-preview" aria-live="polite" aria-label="Cron preview">
          <Preview preview={props.preview} />
        </section>
        <div class="actions">
          <button type="submit">{editing ? "Save" : "Create schedule"}</button>
        </div>
      </form>
    </Page>
  )
}

/** The server's first rendering of what the page script updates while typing. */
function Preview(props: { preview: SchedulePreview | { error: string } | null }) {
  const p = props.preview
  if (!p) return null
  if ("error" in p) return <p class="error-box">{p.error}</p>
  return (
    <>
      <p>{p.description}</p>
      <p class="muted">{`Next ${p.upcoming.length} fires, ${p.timezone} (UTC):`}</p>
      <ol>
        {p.upcoming.map((f) => (
          <li>{`${f.local}  (${f.utc})`}</li>
        ))}
      </ol>
    </>
  )
}
