import { describe, expect, test } from "bun:test"
import { frameMessage } from "@helmr/sdk/runtime/protocol"
import { parseSandboxLine } from "./messages.ts"

describe("parseSandboxLine", () => {
  test("accepts well-formed frames of this attempt only", () => {
    const frame = frameMessage("n1", { type: "result", ok: true, output: { a: 1 } }).trimEnd()
    expect(parseSandboxLine("n1", frame)).toEqual({ type: "result", ok: true, output: { a: 1 } })
    expect(parseSandboxLine("n2", frame)).toBeNull()
  })

  test("a forged or broken frame is not a message", () => {
    const head = frameMessage("n1", { type: "started", at: 1 }).split(" ")[0]
    expect(parseSandboxLine("n1", `${head} {not json`)).toBeNull()
    expect(parseSandboxLine("n1", `${head} {"type":"result","ok":false}`)).toBeNull()
    expect(
      parseSandboxLine("n1", `${head} {"type":"log","level":"loud","message":"x","at":1}`),
    ).toBeNull()
  })

  test("metadata and stream frames", () => {
    const meta = frameMessage("n1", { type: "metadata", metadata: { a: [1] } }).trimEnd()
    expect(parseSandboxLine("n1", meta)).toEqual({ type: "metadata", metadata: { a: [1] } })
    const chunks = frameMessage("n1", { type: "stream", name: "s", chunks: ["1", '"x"'] }).trimEnd()
    expect(parseSandboxLine("n1", chunks)).toEqual({
      type: "stream",
      name: "s",
      chunks: ["1", '"x"'],
    })
    const head = meta.split(" ")[0]
    expect(parseSandboxLine("n1", `${head} {"type":"metadata","metadata":[1]}`)).toBeNull()
    expect(parseSandboxLine("n1", `${head} {"type":"stream","name":"s","chunks":[1]}`)).toBeNull()
  })
})
