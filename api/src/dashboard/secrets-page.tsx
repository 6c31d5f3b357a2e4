/** @jsxImportSource hono/jsx */
import type { SecretMeta } from "../secrets/secret-store.ts"
import { EmptyState, ErrorBox, type FieldIssue, Time } from "./components.tsx"
import type { OperatorSession, Scope } from "./dashboard-env.ts"
import { Csrf, Page } from "./layout.tsx"

/** Secret names and times only: values are write-only. */
export function SecretsPage(props: {
  session: OperatorSession
  scope: Scope
  flash: string | null
  secrets: SecretMeta[]
  name?: string
  error?: { message: string; issues?: FieldIssue[] | undefined } | undefined
}) {
  const { scope, session } = props
  return (
    <Page title="Secrets" session={session} scope={scope} section="secrets" flash={props.flash}>
      <h1>Secrets</h1>
      <p class="muted">
        Values are encrypted at rest and never shown again: a task receives a secret as an
        environment variable when it declares it (<code>secrets: [{"{ name, env }"}]</code>).
      </p>
      {props.secrets.length === 0 ? (
        <EmptyState
          title="No secrets yet"
          commands={[
            `curl -X PUT $HELMR_API_URL/api/v1/secrets/OPENAI_API_KEY -H "Authorization: Bearer $HELMR_API_KEY" -d '{"value":"sk-…"}'`,
          ]}
        >
          <p>Set one with the form below, or with the HTTP API:</p>
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Secrets of this environment</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" class="hide-narrow">
                  Updated
                </th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {props.secrets.map((s) => (
                <tr>
                  <td class="mono">{s.name}</td>
                  <td class="hide-narrow">
                    <Time at={s.updatedAt} />
                  </td>
                  <td>
                    <form
                      class="inline"
                      method="post"
                      action={`${scope.base}/secrets/${s.name}/delete`}
                      data-confirm={`Delete secret ${s.name}? Tasks that declare it will fail to start.`}
                    >
                      <Csrf session={session} />
                      <button class="danger" type="submit" aria-label={`Delete ${s.name}`}>
                        Delete
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <section class="panel" aria-labelledby="set-title">
        <h2 id="set-title">Set a secret</h2>
        {props.error ? (
          <ErrorBox message={props.error.message} issues={props.error.issues} />
        ) : null}
        <form method="post" action={`${scope.base}/secrets`}>
          <Csrf session={session} />
          <label for="secret-name">
            Name{" "}
            <span class="hint">letters, digits and _; setting an existing name replaces it</span>
          </label>
          <input id="secret-name" name="name" type="text" value={props.name ?? ""} required />
          <label for="secret-value">Value</label>
          <input id="secret-value" name="value" type="password" autocomplete="off" required />
          <div class="actions">
            <button type="submit">Save secret</button>
          </div>
        </form>
      </section>
    </Page>
  )
}
