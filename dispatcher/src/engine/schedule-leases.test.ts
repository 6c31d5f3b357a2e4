import { afterAll, describe, expect, test } from "bun:test"
import { createTestValkey } from "@helmr/migrations/testing"
import {
  formatEntryToken,
  leaseTimers,
  parseEntryToken,
  parseTimerMember,
  putScheduleEntry,
  putTimer,
  readScheduleEntry,
  removeScheduleEntry,
} from "@helmr/migrations/valkey"
import {
  dropOrphanScheduleMembers,
  earliestScheduleDue,
  leaseScheduleEntries,
  swapScheduleEntries,
} from "./schedule-leases.ts"
import { removeLeasedTimer } from "./timer-leases.ts"

const t = createTestValkey("i5leases")
afterAll(() => t.cleanup())

const score = (id: string) => t.valkey.zscore(t.keys.scheduleDue, id).then(Number)

describe("schedule entry tokens", () => {
  test("round trip, with and without failed attempts; garbage is refused", () => {
    const slot = new Date(1_700_000_000_000)
    expect(formatEntryToken("3", slot)).toBe("3:1700000000000")
    expect(parseEntryToken("3:1700000000000")).toEqual({ version: "3", slot, attempt: 0 })
    expect(parseEntryToken(formatEntryToken(7, slot, 2))).toEqual({
      version: "7",
      slot,
      attempt: 2,
    })
    for (const bad of ["", "x:1", "3", "3:abc", "3:1:x", "3:1:2:4"]) {
      expect(parseEntryToken(bad)).toBeNull()
    }
  })
})

describe("schedule leases", () => {
  test("leases due entries only, hides them until the deadline, then they come back", async () => {
    const now = 10_000_000
    await putScheduleEntry(t.valkey, t.keys, {
      instanceId: "a",
      version: 1,
      nextFireAt: new Date(now - 5),
    })
    await putScheduleEntry(t.valkey, t.keys, {
      instanceId: "b",
      version: 2,
      nextFireAt: new Date(now + 60_000),
    })
    expect(await earliestScheduleDue(t.valkey, t.keys)).toBe(now - 5)
    const leased = await leaseScheduleEntries(t.valkey, t.keys, { now, leaseMs: 1_000, limit: 10 })
    expect(leased).toEqual([{ instanceId: "a", token: `1:${now - 5}` }])
    expect(await score("a")).toBe(now + 1_000)
    // Another dispatcher before the deadline gets nothing; after it, the same entry.
    expect(
      await leaseScheduleEntries(t.valkey, t.keys, { now: now + 999, leaseMs: 1_000, limit: 10 }),
    ).toEqual([])
    expect(
      await leaseScheduleEntries(t.valkey, t.keys, { now: now + 1_000, leaseMs: 1_000, limit: 10 }),
    ).toEqual([{ instanceId: "a", token: `1:${now - 5}` }])
    // The entry's slot itself is untouched by leasing.
    expect(await readScheduleEntry(t.valkey, t.keys, "a")).toEqual({
      version: "1",
      slot: new Date(now - 5),
    })
    await removeScheduleEntry(t.valkey, t.keys, "a")
    await removeScheduleEntry(t.valkey, t.keys, "b")
  })

  test("limit bounds one lease call", async () => {
    for (let i = 0; i < 25; i++) {
      await putScheduleEntry(t.valkey, t.keys, {
        instanceId: `n${i}`,
        version: 1,
        nextFireAt: new Date(1_000 + i),
      })
    }
    const first = await leaseScheduleEntries(t.valkey, t.keys, {
      now: 5_000,
      leaseMs: 60_000,
      limit: 10,
    })
    const second = await leaseScheduleEntries(t.valkey, t.keys, {
      now: 5_000,
      leaseMs: 60_000,
      limit: 100,
    })
    expect(first).toHaveLength(10)
    expect(second).toHaveLength(15)
    expect(new Set([...first, ...second].map((l) => l.instanceId)).size).toBe(25)
    for (let i = 0; i < 25; i++) await removeScheduleEntry(t.valkey, t.keys, `n${i}`)
  })

  test("completing a lease is a compare-and-set: an overtaken lease changes nothing", async () => {
    await putScheduleEntry(t.valkey, t.keys, {
      instanceId: "c",
      version: 1,
      nextFireAt: new Date(100),
    })
    const [lease] = await leaseScheduleEntries(t.valkey, t.keys, {
      now: 200,
      leaseMs: 1_000,
      limit: 1,
    })
    // An API edit lands while the lease is held.
    await putScheduleEntry(t.valkey, t.keys, {
      instanceId: "c",
      version: 2,
      nextFireAt: new Date(5_000),
    })
    const applied = await swapScheduleEntries(t.valkey, t.keys, [
      { instanceId: "c", expected: lease!.token, next: { token: "1:60100", score: 60_100 } },
    ])
    expect(applied).toEqual([false])
    expect(await readScheduleEntry(t.valkey, t.keys, "c")).toEqual({
      version: "2",
      slot: new Date(5_000),
    })
    expect(await score("c")).toBe(5_000)
    // With the right token it applies: move, then remove.
    expect(
      await swapScheduleEntries(t.valkey, t.keys, [
        { instanceId: "c", expected: "2:5000", next: { token: "2:65000", score: 65_000 } },
        { instanceId: "d", expected: null, next: { token: "1:7", score: 7 } },
        { instanceId: "e", expected: "1:1", next: null },
      ]),
    ).toEqual([true, true, false])
    expect(await score("c")).toBe(65_000)
    expect(
      await swapScheduleEntries(t.valkey, t.keys, [
        { instanceId: "c", expected: "2:65000", next: null },
      ]),
    ).toEqual([true])
    expect(await readScheduleEntry(t.valkey, t.keys, "c")).toBeNull()
    expect(await t.valkey.zscore(t.keys.scheduleDue, "c")).toBeNull()
    await removeScheduleEntry(t.valkey, t.keys, "d")
  })

  test("due members without a token are dropped, by lease or by repair", async () => {
    await t.valkey.zadd(t.keys.scheduleDue, 1, "orphan1", 9_999_999_999, "orphan2")
    await putScheduleEntry(t.valkey, t.keys, {
      instanceId: "kept",
      version: 1,
      nextFireAt: new Date(9_999_999_999),
    })
    expect(
      await leaseScheduleEntries(t.valkey, t.keys, { now: 10, leaseMs: 10, limit: 10 }),
    ).toEqual([])
    expect(await t.valkey.zscore(t.keys.scheduleDue, "orphan1")).toBeNull()
    expect(await dropOrphanScheduleMembers(t.valkey, t.keys, ["orphan2", "kept"])).toBe(1)
    expect(await t.valkey.zrange(t.keys.scheduleDue, 0, -1)).toEqual(["kept"])
    await removeScheduleEntry(t.valkey, t.keys, "kept")
  })
})

describe("timers", () => {
  test("lease, then remove only if not put again meanwhile", async () => {
    await putTimer(t.valkey, t.keys, "wait", "wp_1", new Date(1_000))
    await putTimer(t.valkey, t.keys, "expire", "run_1", new Date(2_000))
    await putTimer(t.valkey, t.keys, "wait", "wp_later", new Date(50_000))
    const leased = await leaseTimers(t.valkey, t.keys, { now: 3_000, leaseMs: 500, limit: 10 })
    expect(leased).toEqual(["wait:wp_1", "expire:run_1"])
    expect(leased.map(parseTimerMember)).toEqual([
      { kind: "wait", id: "wp_1" },
      { kind: "expire", id: "run_1" },
    ])
    await putTimer(t.valkey, t.keys, "expire", "run_1", new Date(9_000))
    expect(await removeLeasedTimer(t.valkey, t.keys, "wait:wp_1", 3_500)).toBe(true)
    expect(await removeLeasedTimer(t.valkey, t.keys, "expire:run_1", 3_500)).toBe(false)
    expect(await t.valkey.zrange(t.keys.timers, 0, -1)).toEqual(["expire:run_1", "wait:wp_later"])
    expect(parseTimerMember("nope")).toBeNull()
  })
})
