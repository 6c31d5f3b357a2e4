import { afterAll, describe, expect, test } from "bun:test"
import { createTestValkey } from "../testing.ts"
import { parseRunMessage, publishRunMessage, RunChannelMessage } from "./run-channel.ts"

const t = createTestValkey("run-channel")
afterAll(() => t.cleanup())

describe("run channel", () => {
  test("a published message arrives on the run's channel and parses back", async () => {
    const subscriber = t.valkey.duplicate()
    const received: string[] = []
    subscriber.on("message", (_channel: string, message: string) => received.push(message))
    await subscriber.subscribe(t.keys.runChannel("run_x"))
    for (const message of RunChannelMessage.options) {
      await publishRunMessage(t.valkey, t.keys, "run_x", message)
    }
    const deadline = Date.now() + 5_000
    while (received.length < RunChannelMessage.options.length && Date.now() < deadline) {
      await Bun.sleep(10)
    }
    subscriber.disconnect()
    expect(received.map(parseRunMessage)).toEqual([...RunChannelMessage.options])
  })

  test("unknown messages parse to null; publishing one is refused", async () => {
    expect(parseRunMessage("event")).toBeNull()
    expect(parseRunMessage("")).toBeNull()
    await expect(publishRunMessage(t.valkey, t.keys, "run_x", "bogus" as never)).rejects.toThrow()
  })
})
