import { describe, expect, test } from "bun:test"
import { FRAME_PREFIX, frameMessage, serializeError, unframeLine } from "./protocol.ts"

describe("runner ⇄ sandbox protocol", () => {
  test("frames carry the nonce; other lines and other nonces are plain output", () => {
    const line = frameMessage("abc", { type: "started", at: 5 }).trimEnd()
    expect(line.startsWith(`${FRAME_PREFIX}abc `)).toBe(true)
    expect(JSON.parse(unframeLine("abc", line) ?? "")).toEqual({ type: "started", at: 5 })
    expect(unframeLine("xyz", line)).toBeNull()
    expect(unframeLine("abc", '{"type":"started"}')).toBeNull()
  })

  test("serializes errors, error-like objects and anything else thrown", () => {
    const e = serializeError(new RangeError("too far"))
    expect(e).toMatchObject({ name: "RangeError", message: "too far" })
    expect(e.stack).toContain("too far")
    const nonRetriable = new Error("stop")
    nonRetriable.name = "NonRetriableError"
    expect(serializeError(nonRetriable).retryable).toBe(false)
    expect(serializeError({ name: "Custom", message: "m" })).toEqual({
      name: "Custom",
      message: "m",
    })
    expect(serializeError("boom")).toEqual({ name: "Error", message: "non-error thrown: boom" })
    expect(serializeError(42)).toEqual({ name: "Error", message: "non-error thrown: 42" })
  })
})
