import { expect, test } from "bun:test"
import { decodeStreamNotice, encodeStreamNotice, STREAM_NOTICE_MAX_CHARS } from "./stream-notice.ts"

test("small batches travel whole; large ones as the bare name; junk is nothing", () => {
  const small = encodeStreamNotice("tokens", 7, ['"a"', "{}"])
  expect(decodeStreamNotice(small)).toEqual({
    name: "tokens",
    batch: { offset: 7, chunks: ['"a"', "{}"] },
  })
  const large = encodeStreamNotice("tokens", 0, ["x".repeat(STREAM_NOTICE_MAX_CHARS + 1)])
  expect(large).toBe("tokens")
  expect(decodeStreamNotice(large)).toEqual({ name: "tokens" })
  expect(decodeStreamNotice("{broken")).toBeNull()
  expect(decodeStreamNotice('{"n":"s","o":1.5,"c":[]}')).toBeNull()
  expect(decodeStreamNotice('{"n":"s","o":1,"c":[1]}')).toBeNull()
})
