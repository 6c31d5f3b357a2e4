import { describe, expect, test } from "bun:test"
import { createStreamWriter, StreamAppendError, type StreamBatch } from "./stream-writer.ts"

function writer(options: { maxBatchChunks?: number } = {}) {
  const sent: StreamBatch[] = []
  const w = createStreamWriter({
    flushMs: 5,
    ...options,
    send: async (batch) => {
      sent.push(batch)
    },
  })
  return { w, sent }
}

describe("stream writer", () => {
  test("chunks become JSON text at append time, batched per stream in append order", async () => {
    const { w, sent } = writer()
    const chunk = { n: 1 }
    w.append("a", chunk)
    chunk.n = 2 // too late: the append already captured it
    w.append("a", "two")
    w.append("b", [3])
    w.append("a", null)
    await w.flush()
    expect(sent).toEqual([
      { name: "a", chunks: ['{"n":1}', '"two"'] },
      { name: "b", chunks: ["[3]"] },
      { name: "a", chunks: ["null"] },
    ])
  })

  test("a full batch goes out at once; the rest after flushMs", async () => {
    const { w, sent } = writer({ maxBatchChunks: 3 })
    for (let i = 0; i < 4; i++) w.append("s", i)
    await Bun.sleep(0)
    expect(sent).toEqual([{ name: "s", chunks: ["0", "1", "2"] }])
    await Bun.sleep(30)
    expect(sent.at(-1)).toEqual({ name: "s", chunks: ["3"] })
  })

  test("bad names, non-JSON and oversized chunks are refused with the rule", () => {
    const { w } = writer()
    expect(() => w.append("bad name", 1)).toThrow(StreamAppendError)
    expect(() => w.append("-x", 1)).toThrow("must match")
    expect(() => w.append("s", undefined)).toThrow("not JSON")
    expect(() => w.append("s", 1n)).toThrow("not JSON")
    expect(() => w.append("s", "x".repeat(256 * 1024))).toThrow(
      "over the cap of 256 KiB (262144 bytes)",
    )
  })
})
