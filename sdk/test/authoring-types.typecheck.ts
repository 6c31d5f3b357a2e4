/**
 * Compile-time guarantees of the authoring API. This file is type-checked (tsc includes it) and
 * never run: every `@ts-expect-error` line must stay an error, or tsc fails.
 */
import {
  image,
  type ScheduledTaskPayload,
  sandbox,
  schedules,
  type TaskIdOf,
  type TaskOutput,
  type TaskPayload,
  task,
} from "@helmr/sdk"
import { z } from "zod"

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const assertType = <T extends true>(_proof?: T) => {}

const runtime = image("types").from("helmr-local/bun:1.4.5").workdir("/workspace")
const sb = sandbox("types").image(runtime)

// A payload schema types `run`'s payload and the trigger payload.
const withPayload = task({
  id: "with-payload",
  sandbox: sb,
  payload: z.object({ prNumber: z.number(), label: z.string().default("x") }),
  run: async (payload) => {
    assertType<Equal<typeof payload, { prNumber: number; label: string }>>()
    return { ok: true as const }
  },
})
assertType<
  Equal<TaskPayload<typeof withPayload>, { prNumber: number; label?: string | undefined }>
>()
assertType<Equal<TaskOutput<typeof withPayload>, { ok: true }>>()
assertType<Equal<TaskIdOf<typeof withPayload>, "with-payload">>()
// @ts-expect-error the payload is checked against the schema's input type
const badTrigger: TaskPayload<typeof withPayload> = { prNumber: "1" }

// A task without `payload` takes none.
const noPayload = task({ id: "no-payload", sandbox: sb, run: async (payload) => payload })
assertType<Equal<TaskPayload<typeof noPayload>, undefined>>()
// @ts-expect-error no payload can be given to a task declared without one
const refused: TaskPayload<typeof noPayload> = { anything: 1 }
task({
  id: "no-payload-typed-run",
  sandbox: sb,
  // @ts-expect-error run cannot expect a payload the task does not declare
  run: async (payload: { prNumber: number }) => payload.prNumber,
})

// A scheduled task receives the fixed schedule payload and declares none.
const nightly = schedules.task({
  id: "typed-nightly",
  sandbox: sb,
  cron: "0 2 * * *",
  run: async (payload) => {
    assertType<Equal<typeof payload, ScheduledTaskPayload>>()
    const time: Date = payload.timestamp
    const last: Date | undefined = payload.lastTimestamp
    const next: Date[] = payload.upcoming
    return { time, last, next, zone: payload.timezone, id: payload.scheduleId }
  },
})
assertType<Equal<TaskPayload<typeof nightly>, undefined>>()
schedules.task({
  id: "scheduled-with-payload",
  sandbox: sb,
  cron: "0 2 * * *",
  // @ts-expect-error scheduled tasks take no payload schema
  payload: z.object({ a: z.number() }),
  run: async () => {},
})
// @ts-expect-error a scheduled task needs its cron
schedules.task({ id: "scheduled-without-cron", sandbox: sb, run: async () => {} })

// A sandbox needs an image before a task can use it.
// @ts-expect-error sandbox without .image()
task({ id: "no-image", sandbox: sandbox("bare"), run: async () => {} })
// @ts-expect-error an image starts with .from()
image("no-base").workdir("/workspace")
// @ts-expect-error memory takes binary units (Mi, Gi), not "4G"
sandbox("mem").image(runtime).resources({ cpu: 1, memory: "4G" })
// @ts-expect-error resources need both cpu and memory
sandbox("mem").image(runtime).resources({ cpu: 1 })

// ctx is read-only.
task({
  id: "readonly-ctx",
  sandbox: sb,
  run: async (_payload, ctx) => {
    // @ts-expect-error ctx is read-only
    ctx.run.id = "run_x"
    const signal: AbortSignal = ctx.signal
    return [signal, ctx.task.id, ctx.workspace, ctx.session.id]
  },
})

export { badTrigger, refused }
