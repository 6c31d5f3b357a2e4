/** @jsxImportSource hono/jsx */
import type { Deployment } from "@helmr/sdk/contract"
import type { OperatorSession, Scope } from "./dashboard-env.ts"
import { Csrf, Page } from "./layout.tsx"
import type { PromotionPreview, ScheduleChange } from "./promotion-preview.ts"

const spec = (c: { cron: string; timezone: string }) => `${c.cron} (${c.timezone})`

/** The confirmation before a promotion or a rollback, naming every schedule change it makes. */
export function PromotePage(props: {
  session: OperatorSession
  scope: Scope
  deployment: Deployment
  label: string
  current: Deployment | null
  preview: PromotionPreview
}) {
  const { scope, deployment: d, preview } = props
  const changes = preview.create.length + preview.move.length + preview.remove.length
  return (
    <Page title={props.label} session={props.session} scope={scope} section="deployments">
      <p>
        <a href={`${scope.base}/deployments/${d.id}`}>← Deployment v{d.version}</a>
      </p>
      <h1>
        {props.label} in {scope.environment.environmentSlug}?
      </h1>
      <section class="panel" aria-labelledby="what-title">
        <h2 id="what-title">What this does</h2>
        <p>
          Makes <strong>v{d.version}</strong> (<span class="mono">{d.id}</span>) the current
          deployment of <strong>{scope.environment.environmentSlug}</strong>
          {props.current ? ` instead of v${props.current.version}` : ""}: new runs use its code.
        </p>
        <h3>Schedule changes</h3>
        {changes === 0 ? (
          <p id="schedule-changes">No declarative schedule changes.</p>
        ) : (
          <ul id="schedule-changes">
            {preview.create.map((c) => (
              <Change verb="Creates" change={c} />
            ))}
            {preview.move.map((c) => (
              <li>
                Changes <code>{c.taskId}</code> from <code>{c.from ? spec(c.from) : ""}</code> to{" "}
                <code>{spec(c)}</code>
              </li>
            ))}
            {preview.remove.map((c) => (
              <Change verb="Removes" change={c} />
            ))}
          </ul>
        )}
        {preview.keep.length > 0 ? (
          <p class="muted">
            Unchanged: {preview.keep.map((c) => `${c.taskId} ${spec(c)}`).join(", ")}.
          </p>
        ) : null}
        <h3>Build and secrets</h3>
        {d.build.status === "ready" ? (
          <p id="build-state">Its images are built.</p>
        ) : (
          <p id="build-state" role="alert">
            Its build is <strong>{d.build.status}</strong>: promotion is refused until it is ready
            {d.build.error?.step ? (
              <>
                {" "}
                (failed at <span class="mono">{d.build.error.step}</span>)
              </>
            ) : null}
            .
          </p>
        )}
        {d.missingSecrets.length > 0 ? (
          <p id="missing-secrets" role="alert">
            Its tasks declare secrets not set in {scope.environment.environmentSlug}:{" "}
            <span class="mono">{d.missingSecrets.join(", ")}</span>. Runs of those tasks fail until
            they are set.
          </p>
        ) : (
          <p id="missing-secrets">Every secret its tasks declare is set.</p>
        )}
        <form method="post" action={`${scope.base}/deployments/${d.id}/promote`}>
          <Csrf session={props.session} />
          {d.missingSecrets.length > 0 ? (
            <label>
              <input type="checkbox" name="allowMissingSecrets" value="true" /> Promote anyway, with
              missing secrets
            </label>
          ) : null}
          <div class="actions">
            <button type="submit">{`Confirm: ${props.label}`}</button>
            <a href={`${scope.base}/deployments`}>Cancel</a>
          </div>
        </form>
      </section>
    </Page>
  )
}

function Change(props: { verb: string; change: ScheduleChange }) {
  return (
    <li>
      {props.verb} <code>{props.change.taskId}</code> at <code>{spec(props.change)}</code>
    </li>
  )
}
