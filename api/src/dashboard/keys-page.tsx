/** @jsxImportSource hono/jsx */
import type { ApiKeyMeta } from "../keys/api-key-store.ts"
import { Badge, Time } from "./components.tsx"
import type { OperatorSession, Scope } from "./dashboard-env.ts"
import { Csrf, Page } from "./layout.tsx"

/** API keys of the environment: a new key is shown once, on the page that creates it. */
export function KeysPage(props: {
  session: OperatorSession
  scope: Scope
  flash: string | null
  keys: ApiKeyMeta[]
  created?: { id: string; key: string } | undefined
}) {
  const { scope, session } = props
  const env = scope.environment.environmentSlug
  return (
    <Page title="API keys" session={session} scope={scope} section="keys" flash={props.flash}>
      <h1>API keys</h1>
      <p class="muted">
        A key acts as this environment ({env}) for the HTTP API, the SDK client and the CLI:
        <code> export HELMR_API_KEY=hk_{env}_…</code>
      </p>
      {props.created ? (
        <section class="panel key-once" aria-labelledby="new-key-title" role="status">
          <h2 id="new-key-title">New key — copy it now</h2>
          <p>This is the only time the key is shown; Helmr keeps only its hash.</p>
          <pre id="new-key" tabindex={0}>
            {props.created.key}
          </pre>
        </section>
      ) : null}
      <form method="post" action={`${scope.base}/keys`} class="actions">
        <Csrf session={session} />
        <button type="submit">Create a key</button>
      </form>
      <div class="table-wrap">
        <table>
          <caption class="sr-only">API keys of this environment</caption>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col" class="hide-narrow">
                Created
              </th>
              <th scope="col" class="hide-narrow">
                Last used
              </th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {props.keys.map((k) => (
              <tr>
                <td class="mono">{k.keyPrefix}…</td>
                <td class="hide-narrow">
                  <Time at={k.createdAt} />
                </td>
                <td class="hide-narrow">
                  <Time at={k.lastUsedAt} />
                </td>
                <td>
                  {k.revokedAt ? (
                    <Badge value="inactive" label="revoked" />
                  ) : (
                    <form
                      class="inline"
                      method="post"
                      action={`${scope.base}/keys/${k.id}/revoke`}
                      data-confirm={`Revoke ${k.keyPrefix}…? Clients using it get 401 at once.`}
                    >
                      <Csrf session={session} />
                      <button class="danger" type="submit" aria-label={`Revoke ${k.keyPrefix}`}>
                        Revoke
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Page>
  )
}
