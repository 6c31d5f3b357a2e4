import { describe, expect, test } from "bun:test"
import {
  type DesiredSchedule,
  declarativeKey,
  type ExistingInstance,
  planSchedules,
} from "./reconcile.ts"

const want = (taskId: string, cron: string, timezone = "UTC"): DesiredSchedule => ({
  taskId,
  cron,
  timezone,
  key: declarativeKey(taskId, cron, timezone),
})
const have = (taskId: string, cron: string, timezone = "UTC"): ExistingInstance => ({
  instanceId: `schedi_${taskId}`,
  scheduleId: `sched_${taskId}`,
  taskId,
  cron,
  timezone,
  deduplicationKey: declarativeKey(taskId, cron, timezone),
})

describe("declarativeKey", () => {
  test("is stable, whitespace-insensitive, and differs by cron and timezone", () => {
    const key = declarativeKey("nightly", "0 2 * * *", "UTC")
    expect(key).toMatch(/^declarative:nightly:[0-9a-f]{12}$/)
    expect(declarativeKey("nightly", " 0  2 * * * ", "UTC")).toBe(key)
    expect(declarativeKey("nightly", "0 3 * * *", "UTC")).not.toBe(key)
    expect(declarativeKey("nightly", "0 2 * * *", "Europe/Paris")).not.toBe(key)
    expect(declarativeKey("other", "0 2 * * *", "UTC")).not.toBe(key)
  })
})

describe("planSchedules", () => {
  test("creates new, keeps equal, moves changed and removes undeclared", () => {
    const plan = planSchedules(
      [want("a", "0 1 * * *"), want("b", "0 2 * * *"), want("c", "0 4 * * *")],
      [have("b", "0 2 * * *"), have("c", "0 3 * * *"), have("d", "0 5 * * *")],
    )
    expect(plan.create.map((d) => d.taskId)).toEqual(["a"])
    expect(plan.keep.map((k) => k.instance.taskId)).toEqual(["b"])
    expect(plan.move.map((m) => [m.instance.cron, m.desired.cron])).toEqual([
      ["0 3 * * *", "0 4 * * *"],
    ])
    expect(plan.remove.map((r) => r.taskId)).toEqual(["d"])
  })

  test("a timezone change is a move; nothing declared removes everything", () => {
    expect(
      planSchedules([want("a", "0 1 * * *", "Asia/Tokyo")], [have("a", "0 1 * * *")]).move,
    ).toHaveLength(1)
    expect(planSchedules([], [have("a", "0 1 * * *"), have("b", "0 1 * * *")]).remove).toHaveLength(
      2,
    )
  })

  test("a second instance of one task in an environment is removed", () => {
    const plan = planSchedules(
      [want("a", "0 1 * * *")],
      [have("a", "0 1 * * *"), { ...have("a", "0 9 * * *"), instanceId: "schedi_extra" }],
    )
    expect(plan.keep).toHaveLength(1)
    expect(plan.remove.map((r) => r.instanceId)).toEqual(["schedi_extra"])
  })
})
