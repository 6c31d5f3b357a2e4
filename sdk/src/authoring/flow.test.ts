import { describe, expect, test } from "bun:test"
import { TaskManifest } from "../contract/manifest.ts"
import { serializeError } from "../runtime/protocol.ts"
import { DESCRIBE } from "./brand.ts"
import type { TaskDescription } from "./declare.ts"
import { AbortTaskRunError, DeclarationError, NonRetriableError } from "./errors.ts"
import { image } from "./image.ts"
import { sandbox } from "./sandbox.ts"
import { schedules } from "./schedules.ts"
import { task } from "./task.ts"

const sb = sandbox("flow").image(image("flow").from("oven/bun:1"))
let seq = 0
const uniqueId = (base: string) => `${base}-flow-${++seq}`
const describeOf = (value: object) => (value as { [DESCRIBE]: () => TaskDescription })[DESCRIBE]()

function declarationError(fn: () => unknown): DeclarationError {
  try {
    fn()
  } catch (error) {
    if (error instanceof DeclarationError) return error
    throw error
  }
  throw new Error("expected a DeclarationError")
}

describe("queue and retry declarations", () => {
  test("are carried in the manifest", () => {
    const t = task({
      id: uniqueId("mail"),
      sandbox: sb,
      queue: { name: "emails", concurrencyLimit: 5 },
      retry: { maxAttempts: 3, factor: 2, minDelay: "1s", maxDelay: "1m" },
      run: () => 1,
    })
    const d = describeOf(t)
    expect(d.task.queue).toEqual({ name: "emails", concurrencyLimit: 5 })
    expect(d.task.retry).toEqual({ maxAttempts: 3, factor: 2, minDelay: "1s", maxDelay: "1m" })
    expect(TaskManifest.parse({ ...d.task, exportName: "x" }).queue?.concurrencyLimit).toBe(5)
    const s = schedules.task({
      id: uniqueId("nightly"),
      sandbox: sb,
      cron: "0 2 * * *",
      queue: { concurrencyLimit: 1 },
      retry: { maxAttempts: 2 },
      run: async () => {},
    })
    expect(describeOf(s).task).toMatchObject({
      queue: { concurrencyLimit: 1 },
      retry: { maxAttempts: 2 },
    })
    expect(
      describeOf(task({ id: uniqueId("plain"), sandbox: sb, run: () => 1 })).task,
    ).not.toHaveProperty("queue")
  })

  test("bad values name the field", () => {
    const cases: [string, Record<string, unknown>][] = [
      ["queue.concurrencyLimit", { queue: { concurrencyLimit: 0 } }],
      ["queue.name", { queue: { name: "no spaces" } }],
      ["queue.limit", { queue: { limit: 2 } }],
      ["retry.maxAttempts", { retry: { maxAttempts: 101 } }],
      ["retry.minDelay", { retry: { minDelay: 1000 } }],
      ["retry.maxDelay", { retry: { minDelay: "1m", maxDelay: "1s" } }],
      ["retry.factor", { retry: { factor: 0.5 } }],
    ]
    for (const [field, extra] of cases) {
      const error = declarationError(() =>
        task({ id: uniqueId("bad"), sandbox: sb, run: () => 1, ...extra } as never),
      )
      expect(error.field).toBe(field)
    }
  })
})

describe("non-retriable errors", () => {
  test("NonRetriableError and AbortTaskRunError serialise with retryable: false", () => {
    for (const error of [new NonRetriableError("stop"), new AbortTaskRunError("abort")]) {
      expect(error).toBeInstanceOf(Error)
      const out = serializeError(error)
      expect(out).toMatchObject({ name: error.name, message: error.message, retryable: false })
      expect(out.stack).toContain(error.message)
    }
    expect(new AbortTaskRunError("x")).toBeInstanceOf(NonRetriableError)
    expect(serializeError(new Error("plain")).retryable).toBeUndefined()
  })

  test("an error marked by another copy of the SDK counts too", () => {
    const foreign = Object.assign(new Error("bad reply"), {
      name: "ValidationFailed",
      [Symbol.for("helmr.sdk.nonRetriable")]: true,
    })
    expect(serializeError(foreign).retryable).toBe(false)
  })
})
