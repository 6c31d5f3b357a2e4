/** @jsxImportSource hono/jsx */
import type { Deployment } from "@helmr/sdk/contract"
import { Badge, EmptyState, Time } from "./components.tsx"
import type { OperatorSession, Scope } from "./dashboard-env.ts"
import { Page } from "./layout.tsx"

/** What promoting this deployment is called on its row: promote, or roll back to an older one. */
export function promoteLabel(version: number, currentVersion: number | null): string {
  return currentVersion !== null && version < currentVersion
    ? `Roll back to v${version}`
    : `Promote v${version}`
}

export function DeploymentsPage(props: {
  session: OperatorSession
  scope: Scope
  flash: string | null
  deployments: Deployment[]
  nextCursor: string | null
}) {
  const { scope } = props
  const current = props.deployments.find((d) => d.current)
  const env = scope.environment.environmentSlug
  return (
    <Page
      title="Deployments"
      session={props.session}
      scope={scope}
      section="deployments"
      flash={props.flash}
    >
      <h1>Deployments</h1>
      {props.deployments.length === 0 ? (
        <EmptyState
          title="Nothing deployed yet"
          commands={[
            `export HELMR_API_URL=<this server's URL> HELMR_API_KEY=hk_${env}_…`,
            `helmr deploy --env ${env} --dir ./my-tasks --promote`,
            `helmr deployments --env ${env}`,
          ]}
        >
          <p>Deploy a task project with the CLI; its deployments are listed here.</p>
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Deployments, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Deployment</th>
                <th scope="col" class="hide-narrow">
                  Created
                </th>
                <th scope="col">Tasks</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {props.deployments.map((d) => (
                <tr>
                  <td>v{d.version}</td>
                  <td>
                    <a class="mono" href={`${scope.base}/deployments/${d.id}`}>
                      {d.id}
                    </a>
                  </td>
                  <td class="hide-narrow">
                    <Time at={d.createdAt} />
                  </td>
                  <td>{d.tasks.map((t) => t.id).join(", ")}</td>
                  <td>
                    {d.current ? (
                      <Badge value="current" />
                    ) : (
                      <a href={`${scope.base}/deployments/${d.id}/promote`}>
                        {promoteLabel(d.version, current?.version ?? null)}
                      </a>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.nextCursor ? (
        <nav class="pager" aria-label="Pages">
          <a href={`${scope.base}/deployments?cursor=${props.nextCursor}`}>Older deployments</a>
        </nav>
      ) : null}
    </Page>
  )
}
