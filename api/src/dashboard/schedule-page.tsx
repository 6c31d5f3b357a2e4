/** @jsxImportSource hono/jsx */
import type { Schedule, ScheduleSlot, SlotReason } from "@helmr/sdk/contract"
import { Badge, Time } from "./components.tsx"
import type { OperatorSession, Scope } from "./dashboard-env.ts"
import { formatDuration } from "./format.ts"
import { Csrf, Page } from "./layout.tsx"
import { describeCron } from "./schedule-preview.ts"
import { FireTime, KindBadge } from "./schedules-page.tsx"

const REASONS: Record<SlotReason, string> = {
  missed: "missed: no dispatcher could fire it in time (downtime or backlog); not backfilled",
  overlap: "skipped: the previous run was still active (overlap: skip)",
  catchup_window: "skipped: later than the catch-up window",
  buffered: "buffered: waited for the previous run (overlap: bufferOne)",
  canceled_previous: "fired after canceling the previous run (overlap: cancelPrevious)",
}

/** Why a slot went as it did, in words: the ledger's reason, or a failed slot's error. */
function slotReason(slot: ScheduleSlot): string | null {
  const words = slot.reason ? REASONS[slot.reason] : null
  const range =
    slot.lastSlotAt && slot.slotCount !== 1
      ? ` (${slot.slotCount === null ? "many" : slot.slotCount} slots)`
      : ""
  if (words) return `${words}${range}`
  return slot.error
}

export function SchedulePage(props: {
  session: OperatorSession
  scope: Scope
  flash: string | null
  schedule: Schedule
  slots: ScheduleSlot[]
}) {
  const { scope, schedule: s, session } = props
  const path = `${scope.base}/schedules/${s.id}`
  return (
    <Page
      title={`Schedule ${s.task}`}
      session={session}
      scope={scope}
      section="schedules"
      flash={props.flash}
    >
      <p>
        <a href={`${scope.base}/schedules`}>← Schedules</a>
      </p>
      <h1>
        {s.task} <KindBadge kind={s.kind} /> <Badge value={s.active ? "active" : "inactive"} />
      </h1>
      {s.kind === "declarative" ? (
        <p class="panel" id="owned-by-source">
          This schedule is <strong>owned by source</strong>: it is declared with{" "}
          <code>schedules.task</code> in the deployed code. Change its cron or time zone there and
          deploy; it cannot be edited, deactivated or deleted here (the API refuses too).
        </p>
      ) : (
        <div class="actions" id="schedule-actions">
          <a class="button secondary" href={`${path}/edit`}>
            Edit
          </a>
          <form
            class="inline"
            method="post"
            action={`${path}/${s.active ? "deactivate" : "activate"}`}
          >
            <Csrf session={session} />
            <button class="secondary" type="submit">
              {s.active ? "Deactivate" : "Activate"}
            </button>
          </form>
          <form
            class="inline"
            method="post"
            action={`${path}/delete`}
            data-confirm={`Delete schedule ${s.deduplicationKey} in ${scope.environment.environmentSlug}?`}
          >
            <Csrf session={session} />
            <button class="danger" type="submit">
              Delete
            </button>
          </form>
        </div>
      )}
      <div class="grid2">
        <section class="panel" aria-labelledby="def-title">
          <h2 id="def-title">Definition</h2>
          <dl class="facts">
            <dt>Cron</dt>
            <dd>
              <code>{s.cron}</code> — {describeCron(s.cron)}
            </dd>
            <dt>Time zone</dt>
            <dd>{s.timezone}</dd>
            <dt>Deduplication key</dt>
            <dd class="mono">{s.deduplicationKey}</dd>
            <dt>External id</dt>
            <dd class="mono">{s.externalId ?? "—"}</dd>
            <dt>Overlap</dt>
            <dd>{s.overlap}</dd>
            <dt>Catch-up window</dt>
            <dd>{s.catchupWindow ?? "—"}</dd>
            <dt>Pause after failures</dt>
            <dd>
              {s.pauseAfterFailures === null
                ? "—"
                : `${s.pauseAfterFailures} (now ${s.failures.consecutive} in a row)`}
            </dd>
            {s.inactiveReason ? (
              <>
                <dt>Inactive because</dt>
                <dd>{s.inactiveReason}</dd>
              </>
            ) : null}
            <dt>Schedule id</dt>
            <dd class="mono">{s.id}</dd>
            <dt>Last fired slot</dt>
            <dd>
              <FireTime at={s.lastRun} timezone={s.timezone} />
            </dd>
            <dt>Runs</dt>
            <dd>
              <a href={`${scope.base}/runs?schedule=${s.id}`}>runs of this schedule</a>
            </dd>
          </dl>
        </section>
        <section class="panel" aria-labelledby="next-title">
          <h2 id="next-title">Next fires</h2>
          {s.upcoming.length === 0 ? (
            <p class="muted">None: the schedule is inactive.</p>
          ) : (
            <ol>
              {s.upcoming.map((at) => (
                <li>
                  <FireTime at={at} timezone={s.timezone} />
                </li>
              ))}
            </ol>
          )}
        </section>
      </div>
      <section aria-labelledby="slots-title">
        <h2 id="slots-title">Slot history</h2>
        <p id="slot-counters">
          <Badge value="fired" label={`${s.counters.fired} fired`} />{" "}
          <Badge value="failed" label={`${s.counters.failed} failed`} />{" "}
          <Badge
            value="skipped"
            label={`${s.counters.skipped.missed + s.counters.skipped.overlap + s.counters.skipped.catchup_window} skipped`}
          />{" "}
          <span class="muted">
            ({s.counters.skipped.missed} missed, {s.counters.skipped.overlap} overlap,{" "}
            {s.counters.skipped.catchup_window} past the catch-up window)
          </span>
        </p>
        {props.slots.length === 0 ? (
          <p class="muted">No slot has come due yet.</p>
        ) : (
          <div class="table-wrap">
            <table>
              <caption class="sr-only">Slots, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Slot</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Reason / run</th>
                  <th scope="col" class="hide-narrow">
                    Recorded (lateness)
                  </th>
                </tr>
              </thead>
              <tbody>
                {props.slots.map((slot) => (
                  <tr>
                    <td>
                      <FireTime at={slot.slotAt} timezone={s.timezone} />
                      {slot.lastSlotAt ? (
                        <span class="muted">
                          <br />
                          through <Time at={slot.lastSlotAt} />
                        </span>
                      ) : null}
                    </td>
                    <td>
                      <Badge value={slot.outcome} />
                    </td>
                    <td>
                      {slot.runId ? (
                        <>
                          <a class="mono" href={`${scope.base}/runs/${slot.runId}`}>
                            {slot.runId}
                          </a>{" "}
                          {slot.runStatus ? <Badge value={slot.runStatus} /> : null}
                        </>
                      ) : null}
                      {slotReason(slot) ? (
                        <span class="slot-reason">{slotReason(slot)}</span>
                      ) : null}
                      {slot.attempts > 1 ? (
                        <span class="muted"> ({slot.attempts} attempts)</span>
                      ) : null}
                    </td>
                    <td class="hide-narrow">
                      <Time at={slot.recordedAt} />{" "}
                      <span class="muted">(+{formatDuration(slot.latenessMs)})</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </Page>
  )
}
