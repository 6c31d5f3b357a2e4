/** @jsxImportSource hono/jsx */
import { type Context, Hono } from "hono"
import type { ApiDeps } from "../env.ts"
import { createApiKey, listApiKeys, revokeApiKey } from "../keys/api-key-store.ts"
import { setFlash, takeFlash } from "./cookies.ts"
import type { DashEnv } from "./dashboard-env.ts"
import { KeysPage } from "./keys-page.tsx"

/** API keys: create (the response page is the only place the key appears) and revoke. */
export function keysRoutes(deps: ApiDeps): Hono<DashEnv> {
  const render = async (c: Context<DashEnv>, created?: { id: string; key: string }) => {
    // The page that shows a new key must not be cached anywhere.
    if (created) c.header("cache-control", "no-store")
    return c.html(
      <KeysPage
        session={c.get("session")!}
        scope={c.get("scope")}
        flash={takeFlash(c)}
        keys={await listApiKeys(deps.sql, c.get("scope").caller.environmentId)}
        created={created}
      />,
      created ? 201 : 200,
    )
  }
  return new Hono<DashEnv>()
    .get("/keys", (c) => render(c))
    .post("/keys", async (c) => {
      const { environment } = c.get("scope")
      const created = await createApiKey(deps.sql, {
        id: environment.environmentId,
        slug: environment.environmentSlug,
      })
      return render(c, created)
    })
    .post("/keys/:keyId/revoke", async (c) => {
      const scope = c.get("scope")
      const key = await revokeApiKey(deps.sql, scope.caller.environmentId, c.req.param("keyId"))
      setFlash(c, `Key ${key.keyPrefix}… revoked.`)
      return c.redirect(`${scope.base}/keys`, 303)
    })
}
