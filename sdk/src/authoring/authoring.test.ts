import { describe, expect, test } from "bun:test"
import { z } from "zod"
import { TaskManifest } from "../contract/manifest.ts"
import { serializeError } from "../runtime/protocol.ts"
import { DESCRIBE, kindOf } from "./brand.ts"
import { cache } from "./cache.ts"
import type { TaskDescription } from "./declare.ts"
import { AbortTaskRunError, DeclarationError, NonRetriableError } from "./errors.ts"
import { image } from "./image.ts"
import { type MemorySize, sandbox } from "./sandbox.ts"
import { schedules } from "./schedules.ts"
import { source } from "./source.ts"
import { task } from "./task.ts"

const runtime = image("unit")
  .from("node:24-bookworm-slim")
  .workdir("/workspace")
  .copy("/workspace/package.json", source.file("./package.json"))
  .run(["bun", "install"], {
    cache: [{ mountPath: "/root/.bun/install/cache", cache: cache("unit-bun") }],
  })
const sb = sandbox("unit").image(runtime).resources({ cpu: 0.5, memory: "1.5Gi" })

let seq = 0
const uniqueId = (base: string) => `${base}-${++seq}`
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

describe("task()", () => {
  test("describes the task, its sandbox and its image graph", () => {
    const id = uniqueId("review")
    const t = task({
      id,
      sandbox: sb,
      maxDuration: 900,
      secrets: [{ name: "OPENAI_API_KEY", env: "OPENAI" }],
      payload: z.object({ prNumber: z.number().int().positive() }),
      run: async (payload) => ({ n: payload.prNumber }),
    })
    expect(kindOf(t)).toBe("task")
    const d = describeOf(t)
    expect(TaskManifest.parse({ ...d.task, exportName: "x" }).id).toBe(id)
    expect(d.task).toMatchObject({ id, kind: "task", sandbox: "unit", maxDuration: 900 })
    expect(d.task.secrets).toEqual([{ name: "OPENAI_API_KEY", env: "OPENAI" }])
    expect(d.task.payloadSchema).toMatchObject({
      type: "object",
      properties: { prNumber: { type: "integer", exclusiveMinimum: 0 } },
      required: ["prNumber"],
    })
    expect(d.sandbox).toEqual({
      name: "unit",
      image: "unit",
      workspace: "/workspace",
      resources: { cpu: 0.5, memory: "1.5Gi", memoryBytes: 1.5 * 1024 ** 3 },
      network: "bridge",
    })
    expect(d.image).toEqual({
      name: "unit",
      from: "node:24-bookworm-slim",
      steps: [
        { op: "workdir", path: "/workspace" },
        {
          op: "copy",
          dest: "/workspace/package.json",
          source: { kind: "file", path: "package.json" },
          files: [],
        },
        {
          op: "run",
          argv: ["bun", "install"],
          cache: [{ mountPath: "/root/.bun/install/cache", cache: "unit-bun" }],
        },
      ],
    })
  })

  test("a task without payload has a null payload schema and runs with undefined", async () => {
    const t = task({
      id: uniqueId("plain"),
      sandbox: sb,
      run: async (payload) => payload ?? "none",
    })
    expect(describeOf(t).task.payloadSchema).toBeNull()
    expect(t.payload).toBeUndefined()
    const ctx = {
      signal: new AbortController().signal,
      run: { id: "run_1" },
      task: { id: t.id },
      workspace: "/workspace",
      session: { id: "sess_1" },
    }
    expect(await t.run(undefined, ctx)).toBe("none")
  })

  test("builders are immutable", () => {
    const base = image("immutable").from("alpine")
    const a = base.workdir("/a")
    const b = base.workdir("/b")
    expect(a).not.toBe(b)
    const t1 = task({ id: uniqueId("imm"), sandbox: sandbox("imm").image(a), run: () => 1 })
    const t2 = task({ id: uniqueId("imm"), sandbox: sandbox("imm").image(b), run: () => 1 })
    expect(describeOf(t1).image.steps).toEqual([{ op: "workdir", path: "/a" }])
    expect(describeOf(t2).image.steps).toEqual([{ op: "workdir", path: "/b" }])
  })

  test.each([
    ["bad id", () => task({ id: "bad id!", sandbox: sb, run: () => 1 }), "bad id!", "id"],
    [
      "id too long",
      () => task({ id: "a".repeat(129), sandbox: sb, run: () => 1 }),
      "a".repeat(129),
      "id",
    ],
    [
      "memory 4G",
      () =>
        task({
          id: "mem-4g",
          sandbox: sandbox("big")
            .image(runtime)
            .resources({ cpu: 1, memory: "4G" as MemorySize }),
          run: () => 1,
        }),
      "mem-4g",
      "resources.memory",
    ],
    [
      "cpu 0",
      () =>
        task({
          id: "cpu-zero",
          sandbox: sandbox("zero").image(runtime).resources({ cpu: 0, memory: "1Gi" }),
          run: () => 1,
        }),
      "cpu-zero",
      "resources.cpu",
    ],
    [
      "maxDuration",
      () => task({ id: "long", sandbox: sb, maxDuration: 1.5, run: () => 1 }),
      "long",
      "maxDuration",
    ],
    [
      "secret env",
      () =>
        task({ id: "sec", sandbox: sb, secrets: [{ name: "A", env: "not-env" }], run: () => 1 }),
      "sec",
      "secrets[0].env",
    ],
    [
      "payload not zod",
      () => task({ id: "pz", sandbox: sb, payload: {} as z.ZodString, run: () => 1 }),
      "pz",
      "payload",
    ],
    [
      "cache name",
      () =>
        task({
          id: "cache-name",
          sandbox: sandbox("c").image(
            image("c")
              .from("alpine")
              .run(["true"], { cache: [{ mountPath: "/c", cache: cache("bad cache") }] }),
          ),
          run: () => 1,
        }),
      "cache-name",
      "cache",
    ],
    [
      "relative workdir",
      () =>
        task({
          id: "wd",
          sandbox: sandbox("wd").image(image("wd").from("alpine").workdir("rel")),
          run: () => 1,
        }),
      "wd",
      "workdir",
    ],
    [
      "source outside the project",
      () =>
        task({
          id: "src",
          sandbox: sandbox("src").image(
            image("src").from("alpine").copy("/x", source.file("../x")),
          ),
          run: () => 1,
        }),
      "src",
      "source.file",
    ],
  ])("%s is refused naming the task and the field", (_name, declare, taskId, field) => {
    const error = declarationError(declare)
    expect(error.task).toBe(taskId)
    expect(error.field).toBe(field)
    expect(error.message).toStartWith(`task ${JSON.stringify(taskId)}: `)
    expect(error.message).toContain(`${field}: `)
  })

  test("memory 4G says which units to use", () => {
    const error = declarationError(() =>
      task({
        id: uniqueId("mem"),
        sandbox: sandbox("review")
          .image(runtime)
          .resources({ cpu: 2, memory: "4G" as MemorySize }),
        run: () => 1,
      }),
    )
    expect(error.message).toMatch(
      /^task "mem-\d+": sandbox "review": resources.memory: "4G" is not a memory size: use a number with Ki, Mi, Gi or Ti/,
    )
  })

  test("duplicate task ids are refused", () => {
    const id = uniqueId("dup")
    task({ id, sandbox: sb, run: () => 1 })
    const error = declarationError(() => task({ id, sandbox: sb, run: () => 2 }))
    expect(error.message).toBe(
      `task "${id}": id: duplicate task id: another task is already declared with id "${id}"`,
    )
  })

  test("warm(n) is carried in the manifest; a bad n names the field", () => {
    const warm = describeOf(
      task({
        id: uniqueId("warm"),
        sandbox: sandbox("pooled").image(runtime).warm(3),
        run: () => 1,
      }),
    )
    expect(warm.sandbox).toMatchObject({ name: "pooled", warm: 3 })
    expect(
      describeOf(task({ id: uniqueId("cold"), sandbox: sb, run: () => 1 })).sandbox,
    ).not.toHaveProperty("warm")
    for (const bad of [-1, 1.5, 33, Number.NaN, "2" as unknown as number]) {
      const error = declarationError(() =>
        task({ id: "wb", sandbox: sandbox("wb").image(runtime).warm(bad), run: () => 1 }),
      )
      expect(error.message).toMatch(
        /^task "wb": sandbox "wb": warm: must be a whole number from 0 to 32, got /,
      )
    }
  })

  test("a sandbox without an image is refused", () => {
    const error = declarationError(() =>
      task({ id: "no-img", sandbox: sandbox("bare") as never, run: () => 1 }),
    )
    expect(error.message).toBe('task "no-img": sandbox "bare": image: is missing: call .image(…)')
  })
})

describe("schedules.task()", () => {
  test("declares its cron with UTC by default and a null payload schema", () => {
    const t = schedules.task({
      id: uniqueId("nightly"),
      sandbox: sb,
      cron: " 0  2 * * * ",
      run: () => 1,
    })
    const d = describeOf(t)
    expect(d.task.kind).toBe("scheduled")
    expect(d.task.cron).toEqual({ pattern: "0 2 * * *", timezone: "UTC" })
    expect(d.task.payloadSchema).toBeNull()
  })

  test.each([
    [{ pattern: "0 2 * *", timezone: "UTC" }, "cron.pattern", /must have 5 fields .*got 4/],
    [
      { pattern: "61 2 * * *", timezone: "UTC" },
      "cron.pattern",
      /minute field "61" has 61, outside 0-59/,
    ],
    ["0 2 * * MON-FRI/0", "cron", /day of week field .* has a step below 1/],
    // The dispatcher cannot fire Quartz forms: refused at declaration, not at deploy (issue 9).
    ["0 0 L * *", "cron", /day of month field "L" .*L, W, #, \? and H are not supported/],
    ["0 12 * * 5L", "cron", /not supported/],
    ["0 12 * * 1#2", "cron", /not supported/],
    ["0 0 ? * 7", "cron", /not supported/],
    ["@daily", "cron", /macros such as @daily are not supported/],
    [
      { pattern: "0 2 * * *", timezone: "Mars/Olympus" },
      "cron.timezone",
      /"Mars\/Olympus" is not an IANA time zone/,
    ],
  ])("cron %j is refused at %s", (cron, field, message) => {
    const id = uniqueId("bad-cron")
    const error = declarationError(() => schedules.task({ id, sandbox: sb, cron, run: () => 1 }))
    expect(error.field).toBe(field)
    expect(error.message).toStartWith(`task "${id}": ${field}: `)
    expect(error.message).toMatch(message)
  })

  test("accepts the usual cron forms", () => {
    for (const pattern of ["*/5 * * * *", "0 0 1,15 * *", "30 9 * JAN-MAR MON-FRI", "0 0 * * 7"]) {
      expect(() =>
        schedules.task({ id: uniqueId("ok"), sandbox: sb, cron: pattern, run: () => 1 }),
      ).not.toThrow()
    }
  })

  test("flow-control options and run options go into the manifest entry", () => {
    const t = schedules.task({
      id: uniqueId("flow"),
      sandbox: sb,
      cron: "*/5 * * * *",
      overlap: "bufferOne",
      catchupWindow: "2m",
      pauseAfterFailures: 3,
      runOptions: { tags: ["nightly"], ttl: "10m" },
      run: () => 1,
    })
    expect(describeOf(t).task.schedule).toEqual({
      overlap: "bufferOne",
      catchupWindow: "2m",
      pauseAfterFailures: 3,
      runOptions: { tags: ["nightly"], ttl: "10m" },
    })
    const plain = schedules.task({
      id: uniqueId("plain"),
      sandbox: sb,
      cron: "0 * * * *",
      run: () => 1,
    })
    expect(describeOf(plain).task.schedule).toBeUndefined()
  })

  test.each([
    [{ overlap: "sometimes" }, "overlap"],
    [{ catchupWindow: "5 minutes" }, "catchupWindow"],
    [{ pauseAfterFailures: 0 }, "pauseAfterFailures"],
    [{ runOptions: { maxAttempts: 0 } }, "runOptions.maxAttempts"],
  ])("flow option %j is refused at %s", (extra, field) => {
    const id = uniqueId("bad-flow")
    const error = declarationError(() =>
      schedules.task({ id, sandbox: sb, cron: "0 * * * *", run: () => 1, ...(extra as object) }),
    )
    expect(error.field).toBe(field)
    expect(error.message).toStartWith(`task "${id}": ${field}: `)
  })

  test("a payload on a scheduled task is refused", () => {
    const id = uniqueId("sched-payload")
    const error = declarationError(() =>
      schedules.task({
        id,
        sandbox: sb,
        cron: "0 2 * * *",
        payload: z.object({}) as never,
        run: () => 1,
      }),
    )
    expect(error.field).toBe("payload")
    expect(error.message).toStartWith(`task "${id}": payload: scheduled tasks take no payload`)
  })
})

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
