/** @jsxImportSource hono/jsx */
import { PutSecretBody } from "@helmr/sdk/contract"
import { type Context, Hono } from "hono"
import type { ApiDeps } from "../env.ts"
import { ApiError } from "../errors.ts"
import { toFieldIssues } from "../http/validate.ts"
import { deleteSecret, listSecrets, putSecret } from "../secrets/secret-store.ts"
import { type FieldIssue, issuesOf } from "./components.tsx"
import { setFlash, takeFlash } from "./cookies.ts"
import type { DashEnv } from "./dashboard-env.ts"
import { SecretsPage } from "./secrets-page.tsx"

/** Secrets: names, set (write-only), delete, through the API's own secret store. */
export function secretsRoutes(deps: ApiDeps): Hono<DashEnv> {
  const render = async (
    c: Context<DashEnv>,
    name = "",
    error?: { message: string; issues?: FieldIssue[] | undefined },
  ) =>
    c.html(
      <SecretsPage
        session={c.get("session")!}
        scope={c.get("scope")}
        flash={takeFlash(c)}
        secrets={await listSecrets(deps.sql, c.get("scope").caller.environmentId)}
        name={name}
        error={error}
      />,
      error ? 422 : 200,
    )

  return new Hono<DashEnv>()
    .get("/secrets", (c) => render(c))
    .post("/secrets", async (c) => {
      const scope = c.get("scope")
      const form = await c.req.parseBody()
      const name = typeof form.name === "string" ? form.name.trim() : ""
      const body = PutSecretBody.safeParse({ value: form.value })
      if (!body.success) {
        return render(c, name, { message: "Not saved", issues: toFieldIssues(body.error) })
      }
      try {
        const { created } = await putSecret(deps, scope.caller.environmentId, name, body.data.value)
        setFlash(c, `Secret ${name} ${created ? "created" : "replaced"}.`)
        return c.redirect(`${scope.base}/secrets`, 303)
      } catch (error) {
        if (!(error instanceof ApiError) || error.status >= 500) throw error
        return render(c, name, { message: error.message, issues: issuesOf(error.details) })
      }
    })
    .post("/secrets/:name/delete", async (c) => {
      const scope = c.get("scope")
      await deleteSecret(deps.sql, scope.caller.environmentId, c.req.param("name"))
      setFlash(c, `Secret ${c.req.param("name")} deleted.`)
      return c.redirect(`${scope.base}/secrets`, 303)
    })
}
