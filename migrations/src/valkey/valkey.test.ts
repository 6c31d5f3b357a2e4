import { afterAll, describe, expect, test } from "bun:test"
import { createTestValkey } from "../testing.ts"
import { putScheduleEntry, readScheduleEntry, removeScheduleEntry } from "./schedule-entries.ts"

const t = createTestValkey("vk")
afterAll(() => t.cleanup())

describe("schedule entries", () => {
  test("one replaceable entry per instance", async () => {
    await putScheduleEntry(t.valkey, t.keys, {
      instanceId: "schedi_1",
      version: 1,
      nextFireAt: new Date(60_000),
    })
    await putScheduleEntry(t.valkey, t.keys, {
      instanceId: "schedi_1",
      version: 2,
      nextFireAt: new Date(120_000),
    })
    expect(await t.valkey.zrange(t.keys.scheduleDue, 0, -1, "WITHSCORES")).toEqual([
      "schedi_1",
      "120000",
    ])
    expect(await readScheduleEntry(t.valkey, t.keys, "schedi_1")).toEqual({
      version: "2",
      slot: new Date(120_000),
    })
    await removeScheduleEntry(t.valkey, t.keys, "schedi_1")
    expect(await t.valkey.zcard(t.keys.scheduleDue)).toBe(0)
    expect(await readScheduleEntry(t.valkey, t.keys, "schedi_1")).toBeNull()
  })
})
