/** @jsxImportSource hono/jsx */
import { EmptyState, ErrorBox, type FieldIssue } from "./components.tsx"
import type { OperatorSession, Scope } from "./dashboard-env.ts"
import { prettyJson } from "./format.ts"
import { Csrf, Page } from "./layout.tsx"

export interface TriggerTask {
  id: string
  kind: "task" | "scheduled"
  payloadSchema: Record<string, unknown> | null
}

/** Pick a task, write its payload (checked against its schema while typing), trigger. */
export function TriggerPage(props: {
  session: OperatorSession
  scope: Scope
  tasks: TriggerTask[]
  selected: TriggerTask | null
  payload: string
  error?: { message: string; issues?: FieldIssue[] | undefined } | undefined
}) {
  const { scope, selected } = props
  return (
    <Page title="Trigger" session={props.session} scope={scope} section="trigger">
      <h1>Trigger a task</h1>
      {props.tasks.length === 0 ? (
        <EmptyState
          title="No tasks deployed"
          commands={[
            `helmr deploy --env ${scope.environment.environmentSlug} --dir ./my-tasks --promote`,
          ]}
        >
          <p>This environment has no promoted deployment, so there is nothing to trigger yet.</p>
        </EmptyState>
      ) : (
        <>
          <nav aria-label="Tasks" class="panel">
            <h2>Tasks of the current deployment</h2>
            <ul>
              {props.tasks.map((t) => (
                <li>
                  <a
                    href={`${scope.base}/trigger?task=${encodeURIComponent(t.id)}`}
                    aria-current={t.id === selected?.id ? "page" : undefined}
                  >
                    {t.id}
                  </a>{" "}
                  <span class="muted">
                    {t.kind === "scheduled"
                      ? "(scheduled: run now with a generated payload)"
                      : t.payloadSchema
                        ? "(takes a payload)"
                        : "(no payload)"}
                  </span>
                </li>
              ))}
            </ul>
          </nav>
          {selected ? (
            <TriggerForm {...props} selected={selected} />
          ) : props.error ? (
            <ErrorBox message={props.error.message} issues={props.error.issues} />
          ) : null}
        </>
      )}
    </Page>
  )
}

function TriggerForm(props: Parameters<typeof TriggerPage>[0] & { selected: TriggerTask }) {
  const { scope, selected } = props
  const base = `${scope.base}/tasks/${encodeURIComponent(selected.id)}`
  const takesPayload = selected.kind === "task" && selected.payloadSchema !== null
  return (
    <section class="panel" aria-labelledby="trigger-title">
      <h2 id="trigger-title">
        Trigger <code>{selected.id}</code>
      </h2>
      {props.error ? <ErrorBox message={props.error.message} issues={props.error.issues} /> : null}
      <form
        method="post"
        action={`${base}/trigger`}
        data-payload-check={takesPayload ? `${base}/check-payload` : undefined}
      >
        <Csrf session={props.session} />
        {takesPayload ? (
          <>
            <label for="payload">
              Payload (JSON) <span class="hint">checked against the task's schema as you type</span>
            </label>
            <textarea id="payload" name="payload" spellcheck={false}>
              {props.payload}
            </textarea>
            <div id="payload-check" aria-live="polite"></div>
            <details>
              <summary>The task's payload schema</summary>
              <pre tabindex={0}>{prettyJson(selected.payloadSchema)}</pre>
            </details>
          </>
        ) : (
          <p class="muted">
            {selected.kind === "scheduled"
              ? "A scheduled task takes no payload: Helmr generates it, as for a fire now."
              : "This task takes no payload."}
          </p>
        )}
        <label for="tags">
          Tags <span class="hint">comma-separated, optional</span>
        </label>
        <input id="tags" name="tags" type="text" />
        <div class="actions">
          <button type="submit">Trigger run</button>
        </div>
      </form>
    </section>
  )
}
