import { describe, expect, test } from "bun:test"
import { explainUnsucceeded, type RunTrail } from "./whole-stack-audit.ts"

const at = (s: number) => new Date(Date.UTC(2026, 11, 7, 12, 0, s))
const faults = [
  { label: "kill -9 runner", from: at(10), to: at(14) },
  { label: "dockerd restart", from: at(40), to: at(45) },
]
const end = (s: number, from: string, to: string, extra: Record<string, unknown> = {}) => ({
  at: at(s),
  type: "transition",
  data: { from, to, ...extra },
})
const trail = (over: Partial<RunTrail>): RunTrail => ({
  id: "run_x",
  taskId: "hello",
  status: "crashed",
  attempt: 2,
  maxAttempts: 2,
  error: null,
  events: [],
  ...over,
})
const lost = { cause: "runner restarted", error: { name: "RunnerLostError", message: "…" } }

describe("explainUnsucceeded", () => {
  const cases: [string, RunTrail, boolean][] = [
    [
      "every attempt ended inside a fault, all attempts used: explained",
      trail({
        events: [
          end(1, "queued", "starting"),
          end(2, "starting", "running"),
          end(12, "running", "queued", lost),
          end(20, "queued", "starting"),
          end(41, "running", "crashed", lost),
        ],
      }),
      true,
    ],
    [
      "within the slack after a fault's end: explained",
      trail({ attempt: 1, maxAttempts: 1, events: [end(28, "running", "crashed", lost)] }),
      true,
    ],
    [
      "an attempt ended outside every fault: not explained",
      trail({
        events: [end(12, "running", "queued", lost), end(35, "running", "failed", lost)],
      }),
      false,
    ],
    [
      "attempts left yet given up: not explained",
      trail({ attempt: 1, maxAttempts: 5, events: [end(12, "running", "crashed", lost)] }),
      false,
    ],
    ["no attempt ever ended: not explained", trail({ status: "failed", events: [] }), false],
    [
      "canceled or expired runs are never the faults' doing",
      trail({
        status: "canceled",
        attempt: 1,
        maxAttempts: 1,
        events: [end(12, "running", "canceled")],
      }),
      false,
    ],
  ]
  for (const [name, input, explained] of cases) {
    test(name, () => {
      const [verdict] = explainUnsucceeded([input], faults)
      expect(verdict?.explained).toBe(explained)
      expect(verdict?.why).toContain(`attempt ${input.attempt}/${input.maxAttempts}`)
    })
  }

  test("the verdict names each attempt's end and the fault it fell in", () => {
    const [verdict] = explainUnsucceeded(
      [
        trail({
          events: [end(12, "running", "queued", lost), end(41, "running", "crashed", lost)],
        }),
      ],
      faults,
    )
    expect(verdict?.why).toBe(
      "attempt 2/2: queued (runner restarted: RunnerLostError: …) during kill -9 runner; " +
        "crashed (runner restarted: RunnerLostError: …) during dockerd restart",
    )
  })
})
