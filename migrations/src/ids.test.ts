import { expect, test } from "bun:test"
import { newId } from "./ids.ts"

test("ids are prefixed, fixed length and sort by time", () => {
  const a = newId("run", 1_700_000_000_000)
  const b = newId("run", 1_700_000_000_001)
  expect(a).toMatch(/^run_[0-9a-hjkmnp-tv-z]{26}$/)
  expect(a < b).toBe(true)
  expect(new Set(Array.from({ length: 1000 }, () => newId("run"))).size).toBe(1000)
})
