import { describe, expect, test } from "bun:test"
import { parseSse, type SseMessage } from "./sse.ts"

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk))
      controller.close()
    },
  })
}

async function collect(chunks: string[]): Promise<SseMessage[]> {
  const out: SseMessage[] = []
  for await (const message of parseSse(streamOf(chunks))) out.push(message)
  return out
}

describe("parseSse", () => {
  test("messages split across chunks, multi-line data, ids, events and comments", async () => {
    expect(
      await collect([
        ": keep-alive\n\n",
        'data: {"a"',
        ":1}\nid: 7\n\n",
        "event: end\r\ndata: line 1\r\ndata: line 2\r\n\r\n",
        "data:no-space\n\n",
      ]),
    ).toEqual([
      { event: "message", data: '{"a":1}', id: "7" },
      { event: "end", data: "line 1\nline 2", id: "7" },
      { event: "message", data: "no-space", id: "7" },
    ])
  })

  test("an unterminated last message is not emitted", async () => {
    expect(await collect(["data: done\n\n", "data: partial"])).toEqual([
      { event: "message", data: "done" },
    ])
  })
})
