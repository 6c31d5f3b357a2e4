import { Hono } from "hono"
import type { AppEnv } from "../env.ts"
import { buildOpenApiDocument } from "../openapi/document.ts"

/** `GET /openapi.json`: the `/api/v1` contract, public like `/healthz`. */
export function openapiRoutes(): Hono<AppEnv> {
  const document = buildOpenApiDocument()
  return new Hono<AppEnv>().get("/openapi.json", (c) => c.json(document))
}
