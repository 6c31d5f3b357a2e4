import { afterAll, beforeAll, expect, test } from "bun:test"
import { rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { RunRow } from "@helmr/migrations/rows"
import type { Schedule, ScheduleSlot, ScheduleSlotList } from "@helmr/sdk/contract"
import { auditSlots } from "../src/testing/audit.ts"
import { waitFor } from "../src/testing/processes.ts"
import { type FlowStack, startFlowStack } from "./flow-stack.ts"

/**
 * Schedule flow control end to end, over real minute slots: the API creates the schedules, two
 * real dispatcher processes fire them, a real runner loop (local driver) runs the tasks, and the
 * slot history is read back through `GET /schedules/{id}/slots`. The first slot of each schedule
 * is seeded at the start of the current minute (the catch-up one 5 minutes back, as after
 * downtime) so nothing waits for it; the test then lives through three real minute boundaries
 * (M1, M2, M3): about three minutes, whatever CI says — minutes are what cron slots are made of.
 *
 * - overlap skip: a run held for 2+ minutes; M1 and M2 are skipped (overlap), the first slot after
 *   it ends (M3 on a quiet machine) fires.
 * - bufferOne: M1's run waits behind the active run (held), M2 is skipped; once the first run
 *   ends the buffered one runs.
 * - cancelPrevious: M1 cancels the running run, its own run starts after; M2 does it again.
 * - catchupWindow 30s after 5 minutes of downtime: the late slot is skipped (catchup_window),
 *   M1 fires on time.
 * - pauseAfterFailures 2 with a task that always throws: paused after M1's failure with both run
 *   ids; activation resumes it and M2 or M3 fires again.
 */

const MIN = 60_000
let stack: FlowStack

beforeAll(async () => {
  stack = await startFlowStack("h11aflow")
  await stack.fleet.spawn()
  await stack.fleet.spawn()
}, 120_000)
afterAll(async () => {
  await stack?.stop()
}, 60_000)

async function create(body: Record<string, unknown>): Promise<Schedule> {
  const res = await stack.request("POST", "/schedules", { cron: "* * * * *", ...body })
  if (res.status !== 201) throw new Error(`create ${res.status}: ${await res.text()}`)
  return (await res.json()) as Schedule
}

async function retrieve(id: string): Promise<Schedule> {
  const res = await stack.request("GET", `/schedules/${id}`)
  expect(res.status).toBe(200)
  return (await res.json()) as Schedule
}

async function slots(id: string): Promise<ScheduleSlot[]> {
  const res = await stack.request("GET", `/schedules/${id}/slots?limit=100`)
  expect(res.status).toBe(200)
  return ((await res.json()) as ScheduleSlotList).data
}

async function runsOf(instanceId: string): Promise<RunRow[]> {
  return stack.api.db.sql<RunRow[]>`select * from runs
    where schedule_instance_id = ${instanceId} order by slot_at`
}

async function cursorOf(instanceId: string): Promise<number> {
  const [row] = await stack.api.db.sql<{ nextFireAt: Date | null }[]>`
    select next_fire_at from schedule_instances where id = ${instanceId}`
  return row?.nextFireAt?.getTime() ?? 0
}

/** Waits until each instance's cursor has passed `slot` (the slot was handled). */
async function waitHandled(instanceIds: string[], slot: number, timeoutMs: number) {
  await waitFor(async () => (await Promise.all(instanceIds.map(cursorOf))).every((c) => c > slot), {
    timeoutMs,
    intervalMs: 200,
    describe: () => stack.fleet.logs(),
  })
}

const iso = (t: number) => new Date(t).toISOString()
const brief = (s: ScheduleSlot) => [s.slotAt, s.outcome, s.reason]

test("overlap skip, bufferOne, cancelPrevious, catchupWindow and pauseAfterFailures", async () => {
  const hold = (name: string) => join(stack.holdDir, name)
  for (const name of ["skip", "buffer", "cancel"]) writeFileSync(hold(name), "hold")
  const skip = await create({
    deduplicationKey: "skip",
    task: "holder",
    externalId: hold("skip"),
    overlap: "skip",
  })
  const buffer = await create({
    deduplicationKey: "buffer",
    task: "holder",
    externalId: hold("buffer"),
    overlap: "bufferOne",
  })
  const cancel = await create({
    deduplicationKey: "cancel",
    task: "holder",
    externalId: hold("cancel"),
    overlap: "cancelPrevious",
  })
  const catchup = await create({
    deduplicationKey: "catchup",
    task: "holder",
    externalId: hold("never-held"),
    catchupWindow: "30s",
  })
  const pause = await create({ deduplicationKey: "pause", task: "thrower", pauseAfterFailures: 2 })
  expect(skip).toMatchObject({ overlap: "skip", catchupWindow: null, pauseAfterFailures: null })
  expect(catchup).toMatchObject({ overlap: "allow", catchupWindow: "30s" })
  expect(pause).toMatchObject({ pauseAfterFailures: 2, failures: { consecutive: 0, runIds: [] } })

  const M0 = Math.floor(Date.now() / MIN) * MIN
  const [M1, M2, M3] = [M0 + MIN, M0 + 2 * MIN, M0 + 3 * MIN]
  for (const s of [skip, buffer, cancel, pause]) await stack.seedCursor(s.instanceId, new Date(M0))
  await stack.seedCursor(catchup.instanceId, new Date(M0 - 5 * MIN))
  const all = [skip, buffer, cancel, catchup, pause].map((s) => s.instanceId)

  // M0 handled by all; the catch-up one skipped its late slot and waits for M1.
  await waitHandled(all, M0, 30_000)
  const late = (await slots(catchup.id)).filter((s) => Date.parse(s.slotAt) < M0)
  expect(late.map(brief)).toEqual([
    [iso(M0 - 4 * MIN), "skipped", "missed"],
    [iso(M0 - 5 * MIN), "skipped", "catchup_window"],
  ])
  expect(await runsOf(catchup.instanceId)).toHaveLength(0)

  // M1 and M2, with the first runs of skip/buffer held running by their files.
  await waitHandled(
    [skip, buffer, cancel].map((s) => s.instanceId),
    M2,
    3 * MIN,
  )
  await waitFor(
    async () => {
      const [b] = await runsOf(buffer.instanceId)
      const c = await runsOf(cancel.instanceId)
      return b?.status === "running" && c[c.length - 1]?.status === "running"
    },
    { timeoutMs: 30_000, describe: () => stack.fleet.logs() },
  )

  // overlap skip: one run (still running), M1 and M2 skipped.
  const skipRuns = await runsOf(skip.instanceId)
  expect(skipRuns.map((r) => [r.slotAt?.toISOString(), r.status])).toEqual([[iso(M0), "running"]])
  expect((await slots(skip.id)).map(brief)).toEqual([
    [iso(M2), "skipped", "overlap"],
    [iso(M1), "skipped", "overlap"],
    [iso(M0), "fired", null],
  ])

  // bufferOne: M1 made a held run behind the running one, M2 found the buffer taken.
  const bufferRuns = await runsOf(buffer.instanceId)
  expect(bufferRuns.map((r) => [r.slotAt?.toISOString(), r.status, r.held])).toEqual([
    [iso(M0), "running", false],
    [iso(M1), "queued", true],
  ])
  expect((await slots(buffer.id)).map(brief)).toEqual([
    [iso(M2), "skipped", "overlap"],
    [iso(M1), "fired", "buffered"],
    [iso(M0), "fired", null],
  ])

  // cancelPrevious: M1 canceled M0's run and started after it; M2 did the same to M1's.
  const cancelRuns = await runsOf(cancel.instanceId)
  expect(cancelRuns.map((r) => [r.slotAt?.toISOString(), r.status])).toEqual([
    [iso(M0), "canceled"],
    [iso(M1), "canceled"],
    [iso(M2), "running"],
  ])
  const [c0, c1, c2] = cancelRuns as [RunRow, RunRow, RunRow]
  // Never two at once: each run started after the one it replaced had ended.
  expect(c1.startedAt?.getTime() ?? 0).toBeGreaterThanOrEqual(c0.finishedAt?.getTime() ?? 0)
  expect(c2.startedAt?.getTime() ?? 0).toBeGreaterThanOrEqual(c1.finishedAt?.getTime() ?? 0)
  expect((await slots(cancel.id)).map(brief)).toEqual([
    [iso(M2), "fired", "canceled_previous"],
    [iso(M1), "fired", "canceled_previous"],
    [iso(M0), "fired", null],
  ])

  // catchupWindow: M1 fired on time.
  const catchupSlots = await slots(catchup.id)
  expect(brief(catchupSlots.find((s) => s.slotAt === iso(M1)) as ScheduleSlot)).toEqual([
    iso(M1),
    "fired",
    null,
  ])
  expect((catchupSlots.find((s) => s.slotAt === iso(M1)) as ScheduleSlot).latenessMs).toBeLessThan(
    30_000,
  )

  // pauseAfterFailures: two failures (M0, M1) paused it, with both run ids.
  await waitFor(async () => !(await retrieve(pause.id)).active, {
    timeoutMs: 30_000,
    describe: async () => JSON.stringify(await retrieve(pause.id)),
  })
  const paused = await retrieve(pause.id)
  const failing = (await runsOf(pause.instanceId)).map((r) => r.id)
  expect(failing).toHaveLength(2)
  expect(paused).toMatchObject({
    active: false,
    inactiveReason: "failures",
    nextRun: null,
    failures: { consecutive: 2, runIds: failing },
    lastRunStatus: "failed",
  })
  const activated = await stack.request("POST", `/schedules/${pause.id}/activate`, {})
  expect(activated.status).toBe(200)
  expect(await activated.json()).toMatchObject({
    active: true,
    inactiveReason: null,
    failures: { consecutive: 0, runIds: [] },
  })

  // Let the held runs go: skip's and buffer's first runs end, the buffered one runs and ends.
  for (const name of ["skip", "buffer", "cancel"]) rmSync(hold(name))
  await waitHandled(
    [skip, buffer, pause].map((s) => s.instanceId),
    M3,
    2 * MIN,
  )
  await waitFor(
    async () => {
      const runs = await runsOf(buffer.instanceId)
      return runs.length >= 2 && runs.every((r) => r.status === "succeeded")
    },
    { timeoutMs: 30_000, describe: () => stack.fleet.logs() },
  )
  const buffered = (await runsOf(buffer.instanceId))[1] as RunRow
  const first = (await runsOf(buffer.instanceId))[0] as RunRow
  expect(buffered.held).toBe(false)
  expect(buffered.startedAt?.getTime() ?? 0).toBeGreaterThanOrEqual(
    first.finishedAt?.getTime() ?? 0,
  )

  // overlap skip: the first slot after its run had ended fired (M3, or a later one when a loaded
  // machine let the run end after M3); every slot between was skipped for overlap, while the run
  // was still running. The history says why each slot did or did not fire.
  await waitFor(
    async () => (await slots(skip.id)).some((s) => s.outcome === "fired" && s.slotAt !== iso(M0)),
    { timeoutMs: 2 * MIN, intervalMs: 200, describe: () => stack.fleet.logs() },
  )
  const skipFirst = (await runsOf(skip.instanceId))[0] as RunRow
  const ended = skipFirst.finishedAt?.getTime() ?? 0
  const skipHistory = (await slots(skip.id)).slice().reverse()
  const refired = skipHistory.findIndex((s, i) => i > 0 && s.outcome === "fired")
  const overlapped = skipHistory.slice(1, refired)
  expect(skipHistory.slice(0, refired + 1).map(brief)).toEqual([
    [iso(M0), "fired", null],
    ...overlapped.map((_, i) => [iso(M0 + (i + 1) * MIN), "skipped", "overlap"]),
    [iso(M0 + refired * MIN), "fired", null],
  ])
  expect(overlapped.length).toBeGreaterThanOrEqual(2)
  for (const s of overlapped) expect(Date.parse(s.slotAt)).toBeLessThan(ended)
  expect(skipFirst.status).toBe("succeeded")
  expect(skipHistory[0]?.runStatus).toBe("succeeded")
  const skipView = await retrieve(skip.id)
  expect(skipView.counters).toMatchObject({
    failed: 0,
    skipped: { missed: 0, overlap: overlapped.length, catchup_window: 0 },
  })
  expect(skipView.counters.fired).toBeGreaterThanOrEqual(2)

  // The paused schedule fires again after activation.
  const pauseRuns = await runsOf(pause.instanceId)
  expect(pauseRuns.length).toBeGreaterThanOrEqual(3)
  expect((await retrieve(pause.id)).active).toBe(true)

  // And the ledger adds up: every slot fired once, or skipped with a reason; no duplicates.
  const audit = await auditSlots(
    stack.api.db.sql,
    [skip, buffer, cancel, catchup].map((s) => ({
      instanceId: s.instanceId,
      cron: "* * * * *",
      timezone: "UTC",
      firstSlot: new Date(s === catchup ? M0 - 5 * MIN : M0),
    })),
  )
  expect({ duplicates: audit.duplicates, lost: audit.lost, unexpected: audit.unexpected }).toEqual({
    duplicates: [],
    lost: [],
    unexpected: [],
  })
  expect(audit.fired + audit.failed + audit.skipped).toBe(audit.expectedSlots)
  expect(audit.skippedByReason.overlap).toBeGreaterThanOrEqual(3)
  expect(audit.skippedByReason.catchup_window).toBe(1)
  expect(audit.firedByReason.buffered).toBe(1)
  expect(audit.firedByReason.canceled_previous).toBeGreaterThanOrEqual(2)
}, 420_000)
