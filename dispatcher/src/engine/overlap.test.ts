import { describe, expect, test } from "bun:test"
import type { Overlap } from "@helmr/sdk/contract"
import {
  type ActiveRun,
  beyondCatchupWindow,
  decideOverlap,
  type OverlapAction,
} from "./overlap.ts"

const running: ActiveRun = { id: "run_a", status: "running", held: false }
const waiting: ActiveRun = { id: "run_w", status: "waiting", held: false }
const queued: ActiveRun = { id: "run_q", status: "queued", held: false }
const held: ActiveRun = { id: "run_h", status: "queued", held: true }

const hold = (
  reason: "buffered" | "canceled_previous",
  isHeld: boolean,
  cancelHeld: string[] = [],
  cancelActive: string[] = [],
): OverlapAction => ({ kind: "run", held: isHeld, reason, cancelHeld, cancelActive })

describe("decideOverlap", () => {
  const cases: [string, Overlap, ActiveRun[], OverlapAction][] = [
    ["allow, nothing active", "allow", [], { kind: "fire" }],
    ["allow, a run active: another run", "allow", [running], { kind: "fire" }],
    ["skip, nothing active", "skip", [], { kind: "fire" }],
    ["skip, a run running", "skip", [running], { kind: "skip" }],
    ["skip, a run still queued", "skip", [queued], { kind: "skip" }],
    ["skip, a run waiting", "skip", [waiting], { kind: "skip" }],
    ["bufferOne, nothing active", "bufferOne", [], { kind: "fire" }],
    ["bufferOne, a run active: held behind it", "bufferOne", [running], hold("buffered", true)],
    ["bufferOne, buffer taken: skipped", "bufferOne", [running, held], { kind: "skip" }],
    ["bufferOne, held one about to be released: skipped", "bufferOne", [held], { kind: "skip" }],
    ["cancelPrevious, nothing active", "cancelPrevious", [], { kind: "fire" }],
    [
      "cancelPrevious, a run active: canceled, new one held until it ends",
      "cancelPrevious",
      [running],
      hold("canceled_previous", true, [], ["run_a"]),
    ],
    [
      "cancelPrevious, active and held: both replaced",
      "cancelPrevious",
      [running, held],
      hold("canceled_previous", true, ["run_h"], ["run_a"]),
    ],
    [
      "cancelPrevious, only a held run: it is replaced, the new one starts at once",
      "cancelPrevious",
      [held],
      hold("canceled_previous", false, ["run_h"], []),
    ],
  ]
  for (const [name, overlap, active, expected] of cases) {
    test(name, () => expect(decideOverlap(overlap, active)).toEqual(expected))
  }
})

describe("beyondCatchupWindow", () => {
  const slot = new Date("2026-03-01T02:00:00Z")
  const at = (ms: number) => new Date(slot.getTime() + ms)
  const cases: [string, Date, number | null, boolean][] = [
    ["no window: never", at(86_400_000), null, false],
    ["staged before its slot", at(-1_000), 60_000, false],
    ["on time", at(0), 60_000, false],
    ["exactly at the window", at(60_000), 60_000, false],
    ["past the window", at(60_001), 60_000, true],
  ]
  for (const [name, now, window, expected] of cases) {
    test(name, () => expect(beyondCatchupWindow(slot, now, window)).toBe(expected))
  }
})
