import { describe, expect, test } from "bun:test"
import { findUnsafeJson, MAX_JSON_DEPTH, unsafeTextReason } from "./safe-input.ts"

const nested = (depth: number): unknown => {
  let value: unknown = "leaf"
  for (let i = 0; i < depth; i++) value = [value]
  return value
}

describe("unsafeTextReason", () => {
  test.each([
    ["plain", null],
    ["", null],
    ["emoji 😀 pair", null],
    ["ünïcødé", null],
    ["a\u0000b", "must not contain NUL (\\u0000)"],
    ["\ud800", "must be valid Unicode: it holds a lone surrogate"],
    ["x\udfff", "must be valid Unicode: it holds a lone surrogate"],
    ["\udfff\ud800", "must be valid Unicode: it holds a lone surrogate"],
    ["\ud83d", "must be valid Unicode: it holds a lone surrogate"],
  ])("%j", (text, reason) => {
    expect(unsafeTextReason(text)).toBe(reason)
  })
})

describe("findUnsafeJson", () => {
  test("values that store intact pass", () => {
    for (const value of [null, 0, -0, 2 ** 60, "x", [], {}, { a: [1, { b: "c" }] }, true]) {
      expect(findUnsafeJson(value)).toBeNull()
    }
    expect(findUnsafeJson(nested(MAX_JSON_DEPTH))).toBeNull()
  })

  test("names the first part that cannot be stored", () => {
    expect(findUnsafeJson({ payload: { list: ["ok", "a\u0000"] } })).toEqual({
      path: ["payload", "list", 1],
      message: "must not contain NUL (\\u0000)",
    })
    expect(findUnsafeJson({ tags: ["\ud800"] })?.path).toEqual(["tags", 0])
    expect(findUnsafeJson({ a: { "k\u0000": 1 } })).toEqual({
      path: ["a", '"k\\u0000"'],
      message: "key must not contain NUL (\\u0000)",
    })
    expect(findUnsafeJson({ n: Number.POSITIVE_INFINITY })).toEqual({
      path: ["n"],
      message: "number is out of range",
    })
  })

  test("deep nesting is refused without recursion", () => {
    const issue = findUnsafeJson({ payload: nested(100_000) })
    expect(issue?.message).toBe(`nested deeper than ${MAX_JSON_DEPTH} levels`)
    expect(issue?.path.length).toBe(MAX_JSON_DEPTH)
  })
})
