import { describe, expect, test } from "bun:test"
import { createMetadataStore, MetadataTooLargeError } from "./metadata-store.ts"

function store(initial: Record<string, unknown> = {}) {
  const sent: Record<string, unknown>[] = []
  const s = createMetadataStore({
    initial,
    flushMs: 5,
    send: async (m) => {
      sent.push(m)
    },
  })
  return { s, sent }
}

describe("metadata store", () => {
  test("set, get, del, increment, append and current", async () => {
    const { s, sent } = store({ kept: 1 })
    s.set("stage", "a")
    s.set("obj", { n: 1 })
    s.del("kept")
    s.del("missing")
    s.increment("count", 1)
    s.increment("count", 4)
    s.increment("count", -2)
    s.append("list", 1)
    s.append("list", { two: 2 })
    s.set("single", "x")
    s.append("single", "y")
    expect(s.current()).toEqual({
      stage: "a",
      obj: { n: 1 },
      count: 3,
      list: [1, { two: 2 }],
      single: ["x", "y"],
    })
    // Reads are copies: changing them changes nothing.
    ;(s.get("obj") as { n: number }).n = 99
    s.current().stage = "changed"
    expect(s.get("obj")).toEqual({ n: 1 })
    expect(s.get("stage")).toBe("a")
    await s.flush()
    // Many changes, one snapshot sent.
    expect(sent).toEqual([s.current()])
  })

  test("values are stored as JSON; what JSON cannot hold is refused", () => {
    const { s } = store()
    s.set("date", new Date(0))
    expect(s.get("date")).toBe("1970-01-01T00:00:00.000Z")
    expect(() => s.set("fn", () => 1)).toThrow(TypeError)
    expect(() => s.set("u", undefined)).toThrow("use metadata.del")
    expect(() => s.set("big", 1n)).toThrow("not JSON-serializable")
    expect(() => s.set("", 1)).toThrow("non-empty string")
    s.set("text", "a")
    expect(() => s.increment("text", 1)).toThrow('metadata "text" is a string, not a number')
    expect(() => s.increment("n", Number.NaN)).toThrow("finite number")
  })

  test("the 256 KiB cap: a clear error naming it, and nothing changes", async () => {
    const { s, sent } = store()
    s.set("small", "ok")
    await s.flush()
    let error: unknown
    try {
      s.set("big", "x".repeat(256 * 1024))
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(MetadataTooLargeError)
    expect((error as Error).message).toContain("over its cap of 256 KiB (262144 bytes)")
    expect(s.current()).toEqual({ small: "ok" })
    await s.flush()
    expect(sent).toEqual([{ small: "ok" }])
    // Just under the cap fits (the JSON text counts: braces, quotes, key).
    const room = 256 * 1024 - JSON.stringify({ small: "ok", fill: "" }).length
    s.set("fill", "y".repeat(room))
    expect(() => s.append("small", "z")).toThrow(MetadataTooLargeError)
  })

  test("an error made by another SDK copy is still a MetadataTooLargeError", () => {
    const foreign = new Error("over")
    foreign.name = "MetadataTooLargeError"
    expect(foreign instanceof MetadataTooLargeError).toBe(true)
    expect(new TypeError("x") instanceof MetadataTooLargeError).toBe(false)
  })

  test("changes are sent on their own after flushMs", async () => {
    const { s, sent } = store()
    s.set("a", 1)
    expect(sent).toEqual([])
    await Bun.sleep(30)
    expect(sent).toEqual([{ a: 1 }])
  })
})
