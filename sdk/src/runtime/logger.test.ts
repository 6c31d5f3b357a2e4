import { afterEach, expect, spyOn, test } from "bun:test"
import { formatLogRecord, type LogRecord, logger, setLogSink } from "./logger.ts"

afterEach(() => setLogSink(null))

test("records reach the sink installed on globalThis, shared by every SDK copy", () => {
  const records: LogRecord[] = []
  setLogSink((record) => records.push(record))
  logger.info("reviewing", 42)
  logger.error("failed", { code: "E1" })
  expect(records.map((r) => [r.level, r.message, r.args])).toEqual([
    ["info", "reviewing", [42]],
    ["error", "failed", [{ code: "E1" }]],
  ])
  const sinkSlot = (globalThis as Record<symbol, unknown>)[Symbol.for("helmr.sdk.logSink")]
  expect(typeof sinkSlot).toBe("function")
})

test("the default sink writes one JSON line to stdout", () => {
  const spy = spyOn(console, "log").mockImplementation(() => {})
  try {
    logger.warn("slow", { ms: 1200 })
    expect(spy).toHaveBeenCalledTimes(1)
    const line = JSON.parse(String(spy.mock.calls[0]?.[0]))
    expect(line).toMatchObject({ level: "warn", message: "slow", args: [{ ms: 1200 }] })
    expect(new Date(line.time).getTime()).toBeGreaterThan(0)
  } finally {
    spy.mockRestore()
  }
})

test("a throwing sink never fails the caller", () => {
  setLogSink(() => {
    throw new Error("sink down")
  })
  expect(() => logger.debug("still fine")).not.toThrow()
})

test("errors, bigints and cycles serialise", () => {
  const cyclic: Record<string, unknown> = { a: 1 }
  cyclic.self = cyclic
  const line = JSON.parse(
    formatLogRecord({
      level: "error",
      message: "boom",
      args: [new TypeError("bad"), 10n, cyclic],
      time: new Date(0),
    }),
  )
  expect(line.args[0]).toMatchObject({ name: "TypeError", message: "bad" })
  expect(line.args[1]).toBe("10")
  expect(line.args[2]).toEqual({ a: 1, self: "[Circular]" })
  expect(line.time).toBe("1970-01-01T00:00:00.000Z")
})
