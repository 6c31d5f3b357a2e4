/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx"
import type { OperatorSession, Scope } from "./dashboard-env.ts"

export type Section = "runs" | "trigger" | "schedules" | "deployments" | "secrets" | "keys"

const SECTIONS: { id: Section; label: string }[] = [
  { id: "runs", label: "Runs" },
  { id: "trigger", label: "Trigger" },
  { id: "schedules", label: "Schedules" },
  { id: "deployments", label: "Deployments" },
  { id: "secrets", label: "Secrets" },
  { id: "keys", label: "API keys" },
]

export interface PageProps {
  title: string
  session: OperatorSession | null
  scope?: Scope | undefined
  section?: Section | undefined
  flash?: string | null | undefined
  children?: Child
}

/** Every page: skip link, header (sections, environment switcher, operator), main. */
export function Page(props: PageProps) {
  const { scope, session, section } = props
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        {session ? <meta name="csrf-token" content={session.csrfToken} /> : null}
        <title>{`${props.title} · Helmr`}</title>
        <link rel="stylesheet" href="/assets/dashboard.css" />
        <script src="/assets/dashboard.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <div class="top-inner">
            <a class="brand" href="/">
              Helmr
            </a>
            {scope ? <Switcher scope={scope} section={section ?? "runs"} /> : null}
            {scope ? (
              <nav class="sections" aria-label="Sections">
                <ul>
                  {SECTIONS.map((s) => (
                    <li>
                      <a
                        href={`${scope.base}/${s.id}`}
                        aria-current={s.id === section ? "page" : undefined}
                      >
                        {s.label}
                      </a>
                    </li>
                  ))}
                </ul>
              </nav>
            ) : null}
            {session ? <Operator session={session} /> : null}
          </div>
        </header>
        <main id="main">
          {props.flash ? (
            <p class="flash" role="status">
              {props.flash}
            </p>
          ) : null}
          {props.children}
        </main>
      </body>
    </html>
  )
}

function Switcher(props: { scope: Scope; section: Section }) {
  const { scope } = props
  const current = scope.environment
  return (
    <nav aria-label="Environment">
      <details class="switcher">
        <summary>
          <span class="sr-only">Environment: </span>
          {current.projectSlug} / <strong>{current.environmentSlug}</strong>
        </summary>
        <ul>
          {scope.environments.map((e) => (
            <li>
              <a
                href={`/p/${e.projectSlug}/${e.environmentSlug}/${props.section}`}
                aria-current={e.environmentId === current.environmentId ? "true" : undefined}
              >
                {e.projectSlug} / {e.environmentSlug}
              </a>
            </li>
          ))}
        </ul>
      </details>
    </nav>
  )
}

function Operator(props: { session: OperatorSession }) {
  return (
    <div class="who">
      <span>{props.session.email}</span>
      <form class="inline" method="post" action="/sign-out">
        <Csrf session={props.session} />
        <button class="secondary" type="submit">
          Sign out
        </button>
      </form>
      <form class="inline" method="post" action="/sign-out-everywhere">
        <Csrf session={props.session} />
        <button class="link" type="submit">
          Sign out everywhere
        </button>
      </form>
    </div>
  )
}

/** The CSRF field every form carries. */
export function Csrf(props: { session: OperatorSession | null; token?: string }) {
  return <input type="hidden" name="_csrf" value={props.token ?? props.session?.csrfToken ?? ""} />
}
