import { describe, expect, test } from "bun:test"
import { createDemuxer, createLineSplitter } from "./lines.ts"

const enc = new TextEncoder()

function frame(type: number, text: string): Uint8Array {
  const body = enc.encode(text)
  const out = new Uint8Array(8 + body.length)
  out[0] = type
  new DataView(out.buffer).setUint32(4, body.length)
  out.set(body, 8)
  return out
}

describe("createDemuxer", () => {
  test("splits frames across arbitrary chunk boundaries", () => {
    const out: string[] = []
    const err: string[] = []
    const dec = new TextDecoder()
    const demux = createDemuxer(
      (c) => out.push(dec.decode(c)),
      (c) => err.push(dec.decode(c)),
    )
    const all = new Uint8Array([...frame(1, "hello "), ...frame(2, "oops"), ...frame(1, "world")])
    for (let i = 0; i < all.length; i += 3) demux(all.subarray(i, i + 3))
    expect(out.join("")).toBe("hello world")
    expect(err.join("")).toBe("oops")
  })
})

describe("createLineSplitter", () => {
  test("yields whole lines, keeps partial ones, flushes the rest at the end", () => {
    const lines: string[] = []
    const s = createLineSplitter((l) => lines.push(l), 8)
    s.push(enc.encode("ab\r\ncd"))
    s.push(enc.encode("e\n0123456789abc"))
    s.end()
    expect(lines).toEqual(["ab", "cde", "01234567", "89abc"])
  })

  test("does not split multi-byte characters across chunks", () => {
    const lines: string[] = []
    const s = createLineSplitter((l) => lines.push(l))
    const bytes = enc.encode("héllo\n")
    s.push(bytes.subarray(0, 2))
    s.push(bytes.subarray(2))
    expect(lines).toEqual(["héllo"])
  })
})
