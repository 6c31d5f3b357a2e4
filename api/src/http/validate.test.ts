import { describe, expect, test } from "bun:test"
import { Hono } from "hono"
import { z } from "zod"
import { ApiError } from "../errors.ts"
import { validJson, validParams } from "./validate.ts"

/** A bare app around the validators, answering their errors the way the API's onError does. */
function appWith<T extends z.ZodType>(schema: T) {
  return new Hono()
    .post("/items/:id", validParams(z.object({ id: z.string().min(2) })), validJson(schema), (c) =>
      c.json({ id: c.req.valid("param").id, body: c.req.valid("json") }),
    )
    .onError((error, c) =>
      error instanceof ApiError
        ? c.json({ code: error.code, details: error.details }, error.status)
        : c.json({ code: "internal" }, 500),
    )
}

const post = (app: Hono, path: string, body: unknown) =>
  app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  })

describe("validJson and validParams", () => {
  test("parse synchronously: valid input passes, invalid input is a 422 naming the field", async () => {
    const app = appWith(z.strictObject({ name: z.string() }))
    const ok = await post(app, "/items/ab", { name: "x" })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ id: "ab", body: { name: "x" } })
    const bad = await post(app, "/items/ab", { name: 1 })
    expect(bad.status).toBe(422)
    expect(((await bad.json()) as { details: { path: string }[] }).details[0]?.path).toBe("name")
    const badParam = await post(app, "/items/a", { name: "x" })
    expect(badParam.status).toBe(422)
    expect(((await badParam.json()) as { details: { path: string }[] }).details[0]?.path).toBe("id")
  })

  test("a schema with an async check is still checked (parsed async), never a 500", async () => {
    const app = appWith(
      z.object({
        name: z.string().refine(async (value) => {
          await Bun.sleep(1)
          return value === "allowed"
        }, "not allowed"),
      }),
    )
    expect((await post(app, "/items/ab", { name: "allowed" })).status).toBe(200)
    const refused = await post(app, "/items/ab", { name: "other" })
    expect(refused.status).toBe(422)
    expect(await refused.json()).toEqual({
      code: "validation_failed",
      details: [{ path: "name", message: "not allowed" }],
    })
  })
})
