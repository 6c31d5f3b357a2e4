import { describe, expect, test } from "bun:test"
import { formatEntryToken } from "@helmr/migrations/valkey"
import { dispatcherSettings } from "../config.ts"
import { type Decision, decideLease } from "./decide.ts"
import type { InstanceSnapshot } from "./fire-sql.ts"
import { type ActiveRun, HELD_AVAILABLE_AT } from "./overlap.ts"

const T = Date.parse("2026-03-01T02:00:00Z")
const MIN = 60_000
const settings = dispatcherSettings({ maxAttempts: 3 })

function instance(patch: Partial<InstanceSnapshot> = {}): InstanceSnapshot {
  return {
    id: "schedi_1",
    version: "4",
    active: true,
    nextFireAt: new Date(T),
    lastFiredAt: null,
    runOptions: {},
    environmentId: "env_1",
    scheduleId: "sched_1",
    taskId: "nightly",
    cron: "* * * * *",
    timezone: "UTC",
    externalId: null,
    deploymentId: "dep_1",
    task: { id: "nightly", maxDuration: 300 },
    overlap: "allow",
    catchupWindowMs: null,
    activeRuns: [],
    ...patch,
  }
}

const lease = (token = formatEntryToken("4", new Date(T))) => ({ instanceId: "schedi_1", token })
const running: ActiveRun = { id: "run_prev", status: "running", held: false }
const held: ActiveRun = { id: "run_held", status: "queued", held: true }

/** The parts of a decision a case asserts: kind, reason, slot rows, run shape, cursor. */
function summary(d: Decision) {
  const base = { kind: d.kind }
  if (d.kind === "stale") return { ...base, reason: d.reason }
  if (d.kind === "retry") return base
  const slots = d.slots.map((s) => [s.outcome, s.reason, new Date(s.slotAt).getTime() - T])
  const next = d.move.next ? d.move.next.getTime() - T : null
  if (d.kind === "skip") return { ...base, reason: d.reason, slots, next }
  if (d.kind === "fail") return { ...base, slots, next }
  return {
    ...base,
    slots,
    next,
    held: d.run.held,
    availableAt: d.run.availableAt.getTime() === HELD_AVAILABLE_AT.getTime() ? "held" : "slot",
    cancelHeld: d.cancelHeld,
    cancelActive: d.cancelActive,
  }
}

interface Case {
  name: string
  instance: InstanceSnapshot | undefined
  /** Milliseconds after the slot. */
  now: number
  token?: string
  expected: Record<string, unknown>
}

const cases: Case[] = [
  {
    name: "stale: instance gone",
    instance: undefined,
    now: 0,
    expected: { kind: "stale", reason: "gone" },
  },
  {
    name: "stale: inactive (paused by failures too)",
    instance: instance({ active: false, nextFireAt: null }),
    now: 0,
    expected: { kind: "stale", reason: "inactive" },
  },
  {
    name: "stale: another version",
    instance: instance({ version: "5" }),
    now: 0,
    expected: { kind: "stale", reason: "version" },
  },
  {
    name: "on time, no policy: fired, cursor to the next minute",
    instance: instance(),
    now: 5,
    expected: {
      kind: "fire",
      slots: [["fired", null, 0]],
      next: MIN,
      held: false,
      availableAt: "slot",
      cancelHeld: [],
      cancelActive: [],
    },
  },
  {
    name: "late past the catch-up window: skipped catchup_window, passed slots missed",
    instance: instance({ catchupWindowMs: 30_000 }),
    now: 3 * MIN + 10_000,
    expected: {
      kind: "skip",
      reason: "catchup_window",
      slots: [
        ["skipped", "catchup_window", 0],
        ["skipped", "missed", MIN],
      ],
      next: 4 * MIN,
    },
  },
  {
    name: "late within the catch-up window: fired (the product's one late slot)",
    instance: instance({ catchupWindowMs: 5 * MIN }),
    now: 3 * MIN + 10_000,
    expected: {
      kind: "fire",
      slots: [
        ["fired", null, 0],
        ["skipped", "missed", MIN],
      ],
    },
  },
  {
    name: "late, no window: fired once, the rest missed",
    instance: instance(),
    now: 2 * MIN + 1,
    expected: {
      kind: "fire",
      slots: [
        ["fired", null, 0],
        ["skipped", "missed", MIN],
      ],
    },
  },
  {
    name: "catch-up skip needs no deployment",
    instance: instance({ catchupWindowMs: 1_000, deploymentId: null, task: null }),
    now: 10_000,
    expected: { kind: "skip", reason: "catchup_window" },
  },
  {
    name: "overlap skip while a run is active",
    instance: instance({ overlap: "skip", activeRuns: [running] }),
    now: 5,
    expected: { kind: "skip", reason: "overlap", slots: [["skipped", "overlap", 0]], next: MIN },
  },
  {
    name: "overlap skip with nothing active: fired",
    instance: instance({ overlap: "skip" }),
    now: 5,
    expected: { kind: "fire", held: false },
  },
  {
    name: "bufferOne behind an active run: a held run",
    instance: instance({ overlap: "bufferOne", activeRuns: [running] }),
    now: 5,
    expected: {
      kind: "fire",
      slots: [["fired", "buffered", 0]],
      held: true,
      availableAt: "held",
      cancelActive: [],
    },
  },
  {
    name: "bufferOne with the buffer taken: skipped overlap",
    instance: instance({ overlap: "bufferOne", activeRuns: [running, held] }),
    now: 5,
    expected: { kind: "skip", reason: "overlap" },
  },
  {
    name: "cancelPrevious: the active run is canceled, the new one held until it ends",
    instance: instance({ overlap: "cancelPrevious", activeRuns: [running, held] }),
    now: 5,
    expected: {
      kind: "fire",
      slots: [["fired", "canceled_previous", 0]],
      held: true,
      cancelHeld: ["run_held"],
      cancelActive: ["run_prev"],
    },
  },
  {
    name: "no deployment: retried",
    instance: instance({ deploymentId: null, task: null }),
    now: 5,
    expected: { kind: "retry" },
  },
  {
    name: "no deployment, attempts used up: failed, cursor moves",
    instance: instance({ deploymentId: null, task: null }),
    token: formatEntryToken("4", new Date(T), 2),
    now: 5,
    expected: { kind: "fail", slots: [["failed", null, 0]], next: MIN },
  },
]

describe("decideLease", () => {
  for (const c of cases) {
    test(c.name, () => {
      const decision = decideLease(lease(c.token), c.instance, new Date(T + c.now), settings)
      expect(summary(decision)).toMatchObject(c.expected)
    })
  }

  test("a held run's ttl counts from its slot, not from its hold", () => {
    const d = decideLease(
      lease(),
      instance({ overlap: "bufferOne", activeRuns: [running], runOptions: { ttl: "10m" } }),
      new Date(T + 5),
      settings,
    )
    if (d.kind !== "fire") throw new Error(d.kind)
    expect(d.run.expiresAt?.getTime()).toBe(T + 5 + 10 * MIN)
  })
})
