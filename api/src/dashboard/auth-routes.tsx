/** @jsxImportSource hono/jsx */
import { randomBytes } from "node:crypto"
import {
  decoyPasswordHash,
  normalizeEmail,
  OperatorInputError,
  verifyPassword,
} from "@helmr/migrations/operators"
import { type Context, Hono } from "hono"
import type { ApiDeps } from "../env.ts"
import { ApiError } from "../errors.ts"
import { ErrorBox } from "./components.tsx"
import {
  dropCookie,
  PRE_SESSION_CSRF_COOKIE,
  putCookie,
  SESSION_COOKIE,
  setFlash,
  takeFlash,
} from "./cookies.ts"
import type { DashEnv } from "./dashboard-env.ts"
import { Csrf, Page } from "./layout.tsx"
import {
  createOperatorSession,
  endAllOperatorSessions,
  endOperatorSession,
  findOperatorByEmail,
  listMemberEnvironments,
  SESSION_LIFETIME_MS,
} from "./operator-sessions.ts"
import { countSignInAttempt } from "./sign-in-limit.ts"

/** Only same-site paths: `next` must not send a signed-in operator to another site. */
function safeNext(next: string | undefined): string {
  return next && /^\/(?!\/)[^\s\\]*$/.test(next) ? next : "/"
}

function SignIn(props: {
  token: string
  next: string
  email?: string
  error?: string
  flash?: string | null
}) {
  return (
    <Page title="Sign in" session={null} flash={props.flash}>
      <section class="signin panel">
        <h1>Sign in to Helmr</h1>
        {props.error ? <ErrorBox message={props.error} /> : null}
        <form method="post" action="/sign-in">
          <Csrf session={null} token={props.token} />
          <input type="hidden" name="next" value={props.next} />
          <label for="email">Email</label>
          <input
            id="email"
            name="email"
            type="email"
            autocomplete="username"
            required
            value={props.email ?? ""}
          />
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
          />
          <div class="actions">
            <button type="submit">Sign in</button>
          </div>
        </form>
        <p class="muted">
          No account yet? An administrator creates operators with{" "}
          <code>bun run bootstrap -- --project SLUG --operator you@example.com</code> or{" "}
          <code>bun migrations/src/cli.ts operator you@example.com --project SLUG</code>.
        </p>
      </section>
    </Page>
  )
}

/** Sign-in, sign-out, sign-out everywhere, and `/` (the first environment's runs). */
export function authRoutes(deps: ApiDeps): Hono<DashEnv> {
  const signInPage = (
    c: Context<DashEnv>,
    props: { next: string; email?: string; error?: string },
    status: 200 | 401 | 422 | 429 = 200,
  ) => {
    // A fresh double-submit token each time the form is shown.
    const token = randomBytes(24).toString("base64url")
    putCookie(c, PRE_SESSION_CSRF_COOKIE, token, 3600)
    return c.html(<SignIn token={token} flash={takeFlash(c)} {...props} />, status)
  }

  return new Hono<DashEnv>()
    .get("/", async (c) => {
      const session = c.get("session")
      if (!session) return c.redirect("/sign-in", 303)
      const [first] = await listMemberEnvironments(deps.sql, session.operatorId)
      if (!first) {
        return c.html(
          <Page title="No environments" session={session}>
            <h1>No environments yet</h1>
            <p>
              You are signed in, but you are not a member of any environment. An administrator adds
              you with <code>bunx helmr-migrate operator {session.email} --project SLUG</code>.
            </p>
          </Page>,
        )
      }
      return c.redirect(`/p/${first.projectSlug}/${first.environmentSlug}/runs`, 303)
    })
    .get("/sign-in", (c) => {
      if (c.get("session")) return c.redirect(safeNext(c.req.query("next")), 303)
      return signInPage(c, { next: safeNext(c.req.query("next")) })
    })
    .post("/sign-in", async (c) => {
      const form = await c.req.parseBody()
      const next = safeNext(typeof form.next === "string" ? form.next : undefined)
      const rawEmail = typeof form.email === "string" ? form.email : ""
      const password = typeof form.password === "string" ? form.password : ""
      let email: string
      try {
        email = normalizeEmail(rawEmail)
      } catch (error) {
        if (!(error instanceof OperatorInputError)) throw error
        return signInPage(c, { next, email: rawEmail, error: error.message }, 422)
      }
      const limit = await countSignInAttempt(deps.valkey, deps.keys, email).catch(
        (error: unknown) => {
          // Fail closed: without the counter, guessing would be unlimited.
          deps.logger.error({ err: error }, "sign-in limit unavailable")
          throw new ApiError(
            503,
            "unavailable",
            "Sign-in is unavailable right now; try again shortly.",
          )
        },
      )
      if (!limit.allowed) {
        c.header("Retry-After", String(limit.retryAfterSeconds))
        const minutes = Math.ceil(limit.retryAfterSeconds / 60)
        return signInPage(
          c,
          { next, email, error: `Too many sign-in attempts: try again in ${minutes} min.` },
          429,
        )
      }
      const operator = await findOperatorByEmail(deps.sql, email)
      // The same work whether or not the email exists, so timing does not tell which.
      const ok = await verifyPassword(
        password,
        operator?.passwordHash ?? (await decoyPasswordHash()),
      )
      if (!operator || !ok) {
        return signInPage(c, { next, email, error: "Wrong email or password." }, 401)
      }
      const { token } = await createOperatorSession(deps.sql, operator.id)
      putCookie(c, SESSION_COOKIE, token, Math.floor(SESSION_LIFETIME_MS / 1000))
      dropCookie(c, PRE_SESSION_CSRF_COOKIE)
      return c.redirect(next, 303)
    })
    .post("/sign-out", async (c) => {
      const session = c.get("session")
      if (session) await endOperatorSession(deps.sql, session.sessionId)
      dropCookie(c, SESSION_COOKIE)
      setFlash(c, "Signed out.")
      return c.redirect("/sign-in", 303)
    })
    .post("/sign-out-everywhere", async (c) => {
      const session = c.get("session")
      const ended = session ? await endAllOperatorSessions(deps.sql, session.operatorId) : 0
      dropCookie(c, SESSION_COOKIE)
      setFlash(c, `Signed out everywhere (${ended} session${ended === 1 ? "" : "s"} ended).`)
      return c.redirect("/sign-in", 303)
    })
}
