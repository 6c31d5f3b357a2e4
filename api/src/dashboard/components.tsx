/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx"
import { formatUtc, prettyJson } from "./format.ts"

export function Badge(props: { value: string; label?: string }) {
  return <span class={`badge s-${props.value}`}>{props.label ?? props.value}</span>
}

/** An instant in UTC, machine-readable in `datetime`. */
export function Time(props: { at: Date | string | null }) {
  if (props.at === null) return <span class="muted">—</span>
  const date = typeof props.at === "string" ? new Date(props.at) : props.at
  return <time datetime={date.toISOString()}>{formatUtc(date)}</time>
}

export function Json(props: { value: unknown; label: string }) {
  if (props.value === null || props.value === undefined) return <p class="muted">none</p>
  return <pre tabindex={0}>{prettyJson(props.value)}</pre>
}

/** A new environment's page: what to do next, with the CLI commands. */
export function EmptyState(props: { title: string; children?: Child; commands: string[] }) {
  return (
    <section class="empty" aria-label={props.title}>
      <h2>{props.title}</h2>
      {props.children}
      <pre tabindex={0}>{props.commands.join("\n")}</pre>
    </section>
  )
}

export interface FieldIssue {
  path: string
  message: string
}

export function ErrorBox(props: { message: string; issues?: FieldIssue[] | undefined }) {
  return (
    <div class="error-box" role="alert">
      <strong>{props.message}</strong>
      {props.issues && props.issues.length > 0 ? (
        <ul>
          {props.issues.map((i) => (
            <li>
              <code>{i.path}</code>: {i.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  )
}

/** The issues an ApiError carries in `details`, when it carries field issues. */
export function issuesOf(details: unknown): FieldIssue[] | undefined {
  if (!Array.isArray(details)) return undefined
  const issues = details.filter(
    (d): d is FieldIssue => typeof d === "object" && d !== null && "path" in d && "message" in d,
  )
  return issues.length > 0 ? issues : undefined
}
