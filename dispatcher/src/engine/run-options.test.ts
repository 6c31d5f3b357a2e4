import { describe, expect, test } from "bun:test"
import { readScheduleRunOptions } from "@helmr/sdk/contract"
import { scheduledRunFlow } from "./run-options.ts"

describe("scheduledRunFlow", () => {
  const task = {
    id: "nightly",
    queue: { name: "reports", concurrencyLimit: 2 },
    retry: { maxAttempts: 3, minDelay: "1s" },
  }
  const cases: [string, unknown, Record<string, unknown>, Record<string, unknown>][] = [
    [
      "the task's declaration",
      task,
      {},
      { queue: "reports", concurrencyLimit: 2, maxAttempts: 3, retry: { minDelayMs: 1000 } },
    ],
    [
      "run options win, field by field",
      task,
      { concurrencyKey: "org_1", retry: { maxDelay: "5s" }, maxAttempts: 5 },
      { concurrencyKey: "org_1", maxAttempts: 5, retry: { minDelayMs: 1000, maxDelayMs: 5000 } },
    ],
    [
      "a task without declarations",
      { id: "nightly" },
      {},
      { queue: "task:nightly", concurrencyLimit: null, maxAttempts: 1, retry: null },
    ],
    [
      "an unreadable declaration is ignored",
      { queue: { concurrencyLimit: -1 } },
      {},
      { queue: "task:nightly", concurrencyLimit: null },
    ],
    [
      "an unreadable option is ignored",
      task,
      { concurrencyKey: "has space", queue: { concurrencyLimit: 0 } },
      { concurrencyKey: null, concurrencyLimit: 2 },
    ],
  ]
  for (const [name, declared, options, expected] of cases) {
    test(name, () => {
      expect(scheduledRunFlow("nightly", declared, readScheduleRunOptions(options))).toMatchObject(
        expected,
      )
    })
  }
})
