import { listTimezones } from "@helmr/dispatcher/schedule"
import { Hono } from "hono"
import type { AppEnv } from "../env.ts"

/** `GET /timezones`: every IANA name a schedule accepts. */
export function timezonesRoutes(): Hono<AppEnv> {
  const timezones = listTimezones()
  return new Hono<AppEnv>().get("/timezones", (c) => c.json({ timezones }))
}
