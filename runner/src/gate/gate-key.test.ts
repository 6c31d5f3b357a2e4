import { describe, expect, test } from "bun:test"
import { gateOf } from "./gate-key.ts"

const run = { environmentId: "env_1", taskId: "mail", queue: "emails", concurrencyKey: null }

describe("gateOf", () => {
  test("unlimited runs pass no gate", () => {
    expect(gateOf({ ...run, concurrencyLimit: null })).toBeNull()
  })
  test("one gate per environment, queue and key", () => {
    expect(gateOf({ ...run, concurrencyLimit: 2 })).toEqual({
      key: "env_1|emails|",
      limit: 2,
      queue: "emails",
    })
    expect(gateOf({ ...run, concurrencyKey: "org|1", concurrencyLimit: 1 })?.key).toBe(
      "env_1|emails|org|1",
    )
    expect(gateOf({ ...run, queue: null, concurrencyLimit: 1 })?.key).toBe("env_1|task:mail|")
  })
})
