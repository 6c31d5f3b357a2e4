import { describe, expect, test } from "bun:test"
import { checkFields, pageShape, shape } from "./shape.ts"

describe("checkFields", () => {
  test.each([
    [{ id: "run_1", n: 2 }, { id: "string", n: "number" }, null],
    [{ id: "run_1" }, { id: "string", cursor: "string?" }, null],
    [{ id: "run_1", cursor: null }, { cursor: "string?" }, null],
    [{ tags: [] }, { tags: "array" }, null],
    [{ tags: {} }, { tags: "array" }, "tags: expected array, got object"],
    [{ id: 1 }, { id: "string" }, "id: expected string, got number"],
    [{}, { id: "string" }, "id: expected string, got undefined"],
    [{ error: null }, { error: "object" }, "error: expected object, got null"],
    ["<html>", { id: "string" }, "expected an object, got string"],
    [[], { id: "string" }, "expected an object, got array"],
    [null, { id: "string" }, "expected an object, got null"],
  ] as const)("%j with %j → %p", (value, fields, problem) => {
    expect(checkFields(value, fields)).toBe(problem)
  })
})

describe("shape and pageShape", () => {
  test("pass the value through or name the first bad field", () => {
    const run = shape<{ id: string; extra?: boolean }>({ id: "string" })
    expect(run.safeParse({ id: "run_1", extra: true })).toEqual({
      success: true,
      data: { id: "run_1", extra: true },
    })
    expect(run.safeParse({})).toEqual({
      success: false,
      error: { issues: [{ message: "id: expected string, got undefined" }] },
    })
    const page = pageShape<{ data: { id: string }[] }>({ id: "string" })
    expect(page.safeParse({ data: [{ id: "a" }], nextCursor: null }).success).toBe(true)
    expect(page.safeParse({ data: [{ id: "a" }, { id: 2 }], nextCursor: null })).toEqual({
      success: false,
      error: { issues: [{ message: "data[1].id: expected string, got number" }] },
    })
    expect(page.safeParse({ items: [] }).success).toBe(false)
  })
})
