/** @jsxImportSource hono/jsx */
import type { DeploymentBuildEventRow } from "@helmr/migrations/rows"
import type { DeploymentBuild, DeploymentDetail, ImageStep } from "@helmr/sdk/contract"
import { Badge, Time } from "./components.tsx"
import type { OperatorSession, Scope } from "./dashboard-env.ts"
import { Page } from "./layout.tsx"
import { describeCron } from "./schedule-preview.ts"

export interface BuildLog {
  build: DeploymentBuild
  /** The log of the latest claim of the build. */
  events: DeploymentBuildEventRow[]
}

/** The badge colour of each build state (the run statuses' palette). */
const BUILD_BADGE: Record<DeploymentBuild["status"], string> = {
  pending: "queued",
  building: "running",
  ready: "succeeded",
  failed: "failed",
}

function stepText(step: ImageStep): string {
  switch (step.op) {
    case "workdir":
      return `WORKDIR ${step.path}`
    case "env":
      return `ENV ${step.name}=${JSON.stringify(step.value)}`
    case "run":
      return `RUN ${JSON.stringify(step.argv)}${step.cache.map((m) => ` [cache ${m.cache} at ${m.mountPath}]`).join("")}`
    case "copy":
      return `COPY source.${step.source.kind}(${step.source.path}) → ${step.dest} (${step.files.length} file${step.files.length === 1 ? "" : "s"})`
  }
}

export function DeploymentPage(props: {
  session: OperatorSession
  scope: Scope
  flash: string | null
  deployment: DeploymentDetail
  promoteLabel: string
  build: BuildLog
}) {
  const { scope, deployment: d, build } = props
  const m = d.manifest
  const scheduled = m.tasks.filter((t) => t.cron)
  return (
    <Page
      title={`Deployment v${d.version}`}
      session={props.session}
      scope={scope}
      section="deployments"
      flash={props.flash}
    >
      <p>
        <a href={`${scope.base}/deployments`}>← Deployments</a>
      </p>
      <h1>
        Deployment v{d.version} <span class="mono muted">{d.id}</span>{" "}
        {d.current ? <Badge value="current" /> : null}
      </h1>
      {d.current ? null : (
        <div class="actions">
          <a class="button" href={`${scope.base}/deployments/${d.id}/promote`}>
            {props.promoteLabel}
          </a>
        </div>
      )}
      <section class="panel" aria-labelledby="facts-title">
        <h2 id="facts-title">Deployment</h2>
        <dl class="facts">
          <dt>Created</dt>
          <dd>
            <Time at={d.createdAt} />
          </dd>
          <dt>Last promoted</dt>
          <dd>
            <Time at={d.promotedAt} />
          </dd>
          <dt>Content digest</dt>
          <dd class="mono">{d.contentDigest}</dd>
          <dt>Entry</dt>
          <dd class="mono">{m.entry}</dd>
        </dl>
      </section>
      <section aria-labelledby="tasks-title">
        <h2 id="tasks-title">Tasks</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col">Kind</th>
                <th scope="col">Sandbox</th>
                <th scope="col" class="hide-narrow">
                  Max duration
                </th>
                <th scope="col" class="hide-narrow">
                  Secrets
                </th>
              </tr>
            </thead>
            <tbody>
              {m.tasks.map((t) => (
                <tr>
                  <td class="mono">{t.id}</td>
                  <td>{t.kind}</td>
                  <td>{t.sandbox}</td>
                  <td class="hide-narrow">{t.maxDuration ? `${t.maxDuration} s` : "—"}</td>
                  <td class="hide-narrow">{t.secrets.map((s) => s.name).join(", ") || "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section aria-labelledby="schedules-title">
        <h2 id="schedules-title">Declared schedules</h2>
        {scheduled.length === 0 ? (
          <p class="muted">This deployment declares no schedule.</p>
        ) : (
          <ul>
            {scheduled.map((t) => (
              <li>
                <code>{t.id}</code>: <code>{t.cron?.pattern}</code> in {t.cron?.timezone} —{" "}
                {describeCron(t.cron?.pattern ?? "")}
              </li>
            ))}
          </ul>
        )}
      </section>
      <div class="grid2">
        <section aria-labelledby="sandboxes-title">
          <h2 id="sandboxes-title">Sandboxes</h2>
          <ul>
            {m.sandboxes.map((s) => (
              <li>
                <strong>{s.name}</strong>: image {s.image}, workspace <code>{s.workspace}</code>,
                network {s.network}
                {s.resources ? `, ${s.resources.cpu} CPU, ${s.resources.memory}` : ""}
              </li>
            ))}
          </ul>
        </section>
        <section aria-labelledby="images-title">
          <h2 id="images-title">Image graph</h2>
          {m.images.map((img) => (
            <>
              <h3>{img.name}</h3>
              <pre tabindex={0}>{[`FROM ${img.from}`, ...img.steps.map(stepText)].join("\n")}</pre>
            </>
          ))}
        </section>
      </div>
      <section aria-labelledby="build-title">
        <h2 id="build-title">
          Build <Badge value={BUILD_BADGE[build.build.status]} label={build.build.status} />
        </h2>
        <p class="muted">
          A runner builds a deployment's images after upload; promotion waits for the build and
          refuses a failed one. Images are never rebuilt while the graph is unchanged.
        </p>
        {build.build.error ? (
          <p role="alert">
            Failed
            {build.build.error.step ? (
              <>
                {" "}
                at <span class="mono">{build.build.error.step}</span>
              </>
            ) : null}
            : {build.build.error.message}
          </p>
        ) : null}
        {build.events.length > 0 ? (
          <ol class="log" tabindex={0} aria-label="Build log">
            {build.events.map((e) => (
              <li class={`lvl-${e.level}`}>{e.message}</li>
            ))}
          </ol>
        ) : null}
      </section>
      <section aria-labelledby="files-title">
        <h2 id="files-title">Files</h2>
        {d.files.length === 0 ? (
          <p class="muted">No source files.</p>
        ) : (
          <ul class="mono">
            {d.files.map((f) => (
              <li>
                {f.path} <span class="muted">{f.digest.slice(0, 19)}…</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </Page>
  )
}
