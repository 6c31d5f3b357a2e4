import { describe, expect, test } from "bun:test"
import { namedQueueLimits, resolveRunFlow } from "./run-flow.ts"

const plain = { id: "plain" }
const limited = { id: "mail", queue: { concurrencyLimit: 2 } }
const named = { id: "resize", queue: { name: "images", concurrencyLimit: 3 } }
const sharing = { id: "thumb", queue: { name: "images" } }
const retrying = {
  id: "sync",
  retry: { maxAttempts: 3, factor: 3, minDelay: "1s", maxDelay: "1m" },
}
const limits = namedQueueLimits([plain, limited, named, sharing, retrying])

describe("resolveRunFlow", () => {
  const cases: [
    string,
    Parameters<typeof resolveRunFlow>[0],
    Parameters<typeof resolveRunFlow>[2],
    Partial<ReturnType<typeof resolveRunFlow>>,
  ][] = [
    [
      "no declaration, no options",
      plain,
      {},
      {
        queue: "task:plain",
        concurrencyLimit: null,
        concurrencyKey: null,
        maxAttempts: 1,
        retry: null,
      },
    ],
    ["the task's own queue limit", limited, {}, { queue: "task:mail", concurrencyLimit: 2 }],
    [
      "a key splits the limit",
      limited,
      { concurrencyKey: "org_1" },
      { concurrencyKey: "org_1", concurrencyLimit: 2 },
    ],
    [
      "a trigger limit wins",
      limited,
      { queue: { concurrencyLimit: 5 } },
      { queue: "task:mail", concurrencyLimit: 5 },
    ],
    ["a named queue", named, {}, { queue: "images", concurrencyLimit: 3 }],
    [
      "a task sharing a named queue takes its limit",
      sharing,
      {},
      { queue: "images", concurrencyLimit: 3 },
    ],
    [
      "a trigger moves a run into a named queue",
      plain,
      { queue: { name: "images" } },
      { queue: "images", concurrencyLimit: 3 },
    ],
    [
      "an undeclared named queue is unlimited",
      plain,
      { queue: { name: "other" } },
      { queue: "other", concurrencyLimit: null },
    ],
    [
      "the task's retry",
      retrying,
      {},
      { maxAttempts: 3, retry: { factor: 3, minDelayMs: 1000, maxDelayMs: 60_000 } },
    ],
    [
      "retry fields override one by one",
      retrying,
      { retry: { minDelay: "200ms", maxAttempts: 5 } },
      { maxAttempts: 5, retry: { factor: 3, minDelayMs: 200, maxDelayMs: 60_000 } },
    ],
    [
      "maxAttempts wins over retry.maxAttempts",
      retrying,
      { maxAttempts: 2, retry: { maxAttempts: 5 } },
      { maxAttempts: 2 },
    ],
    [
      "retry on a plain task",
      plain,
      { retry: { maxDelay: "10s" } },
      { maxAttempts: 1, retry: { maxDelayMs: 10_000 } },
    ],
  ]
  for (const [name, task, options, expected] of cases) {
    test(name, () => {
      expect(resolveRunFlow(task, limits, options)).toMatchObject(expected)
    })
  }
})

describe("namedQueueLimits", () => {
  test("named queues with a limit only", () => {
    expect([...limits]).toEqual([["images", 3]])
  })
})
