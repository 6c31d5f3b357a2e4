import { readFileSync } from "node:fs"
import { Hono } from "hono"
import type { DashEnv } from "./dashboard-env.ts"

/** The stylesheet and the page script, read once when the routes are made (no build step). */
export function assetRoutes(): Hono<DashEnv> {
  const css = readFileSync(new URL("./assets/dashboard.css", import.meta.url), "utf8")
  const js = readFileSync(new URL("./assets/dashboard.js", import.meta.url), "utf8")
  const cache = "public, max-age=300"
  return new Hono<DashEnv>()
    .get("/assets/dashboard.css", (c) =>
      c.body(css, 200, { "content-type": "text/css; charset=utf-8", "cache-control": cache }),
    )
    .get("/assets/dashboard.js", (c) =>
      c.body(js, 200, {
        "content-type": "text/javascript; charset=utf-8",
        "cache-control": cache,
      }),
    )
}
