/** @jsxImportSource hono/jsx */
import type { Schedule } from "@helmr/sdk/contract"
import { Badge, Time } from "./components.tsx"
import type { OperatorSession, Scope } from "./dashboard-env.ts"
import { formatDuration } from "./format.ts"
import { Csrf, Page } from "./layout.tsx"
import { describeCron } from "./schedule-preview.ts"
import type { SlotCounters, SlotView } from "./schedule-slots.ts"
import { FireTime, KindBadge } from "./schedules-page.tsx"

/**
 * Why a slot did not fire. The dispatcher writes a reason for failed slots; a skipped range
 * without one is what migration 0030 defines: slots that passed while no dispatcher could fire
 * them (downtime or backlog), never backfilled.
 */
function slotReason(slot: SlotView): string | null {
  if (slot.error) return slot.error
  if (slot.outcome !== "skipped") return null
  const count = slot.slotCount === null ? "a run of slots" : `${slot.slotCount} slot(s)`
  return `missed: ${count} passed while no dispatcher could fire them (downtime or backlog); not backfilled`
}

export function SchedulePage(props: {
  session: OperatorSession
  scope: Scope
  flash: string | null
  schedule: Schedule
  slots: SlotView[]
  counters: SlotCounters
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
          <Badge value="fired" label={`${props.counters.fired} fired`} />{" "}
          <Badge value="skipped" label={`${props.counters.skipped} skipped`} />{" "}
          <Badge value="failed" label={`${props.counters.failed} failed`} />
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
                      <FireTime at={slot.slotAt.toISOString()} timezone={s.timezone} />
                      {slot.lastSlotAt ? (
                        <span class="muted">
                          <br />
                          through <Time at={slot.lastSlotAt} />
                          {slot.slotCount && slot.slotCount > 1 ? ` (${slot.slotCount} slots)` : ""}
                        </span>
                      ) : null}
                    </td>
                    <td>
                      <Badge value={slot.outcome} />
                    </td>
                    <td>
                      {slot.runId ? (
                        <a class="mono" href={`${scope.base}/runs/${slot.runId}`}>
                          {slot.runId}
                        </a>
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
                      <span class="muted">
                        (+{formatDuration(slot.recordedAt.getTime() - slot.slotAt.getTime())})
                      </span>
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
