import { describe, expect, test } from "bun:test"
import { FINAL_RUN_STATUSES, RUN_STATUSES, type RunStatus } from "../rows.ts"
import {
  assertRunTransitions,
  canTransitionRun,
  RUN_TRANSITIONS,
  RunTransitionError,
} from "./run-transitions.ts"

const ALLOWED: readonly (readonly [RunStatus, RunStatus])[] = [
  ["queued", "starting"],
  ["queued", "canceled"],
  ["queued", "expired"],
  // Durable waits (docs/runtime.md): resumed in its living sandbox, or its sandbox lost.
  ["queued", "running"],
  ["queued", "crashed"],
  ["starting", "running"],
  ["starting", "queued"],
  ["starting", "failed"],
  ["starting", "canceled"],
  ["starting", "timed_out"],
  ["starting", "crashed"],
  ["running", "waiting"],
  ["running", "queued"],
  ["running", "succeeded"],
  ["running", "failed"],
  ["running", "canceled"],
  ["running", "timed_out"],
  ["running", "crashed"],
  ["waiting", "queued"],
  ["waiting", "canceled"],
  ["waiting", "failed"],
  ["waiting", "timed_out"],
  // A task that ends while a wait it no longer awaits is pending, or whose sandbox dies waiting.
  ["waiting", "succeeded"],
  ["waiting", "crashed"],
]

const key = (from: RunStatus, to: RunStatus) => `${from} → ${to}`
const allowed = new Set(ALLOWED.map(([from, to]) => key(from, to)))
const everyMove = RUN_STATUSES.flatMap((from) => RUN_STATUSES.map((to) => [from, to] as const))

describe("run transitions", () => {
  test.each(everyMove.filter(([from, to]) => allowed.has(key(from, to))))(
    "allows %s → %s",
    (from, to) => {
      expect(canTransitionRun(from, to)).toBe(true)
      expect(() => assertRunTransitions([from], to)).not.toThrow()
    },
  )

  test.each(everyMove.filter(([from, to]) => !allowed.has(key(from, to))))(
    "refuses %s → %s",
    (from, to) => {
      expect(canTransitionRun(from, to)).toBe(false)
      expect(() => assertRunTransitions([from], to)).toThrow(RunTransitionError)
      expect(() => assertRunTransitions([from], to)).toThrow(
        `a run cannot move from ${from} to ${to}`,
      )
    },
  )

  test("the table lists exactly the allowed moves; final statuses are dead ends", () => {
    const listed = Object.entries(RUN_TRANSITIONS).flatMap(([from, tos]) =>
      tos.map((to) => key(from as RunStatus, to)),
    )
    expect(listed.sort()).toEqual([...allowed].sort())
    for (const status of FINAL_RUN_STATUSES) expect(RUN_TRANSITIONS[status]).toEqual([])
  })

  test("a list of origins is refused when any of them may not move", () => {
    expect(() => assertRunTransitions(["starting", "running"], "succeeded")).toThrow(
      "a run cannot move from starting to succeeded",
    )
    expect(() => assertRunTransitions(["starting", "running"], "crashed")).not.toThrow()
  })
})
