import type { BatchResponse } from "../contract/batch.ts"
import type { ListRunsQuery, Run, RunEvent, RunList, TriggerOptions } from "../contract/runs.ts"
import {
  BatchResponseAnswer,
  RunAnswer,
  RunEventAnswer,
  RunListAnswer,
  RunStreamEndAnswer,
  TriggerAnswer,
} from "./answers.ts"
import { parseMessage } from "./shape.ts"
import { followSse } from "./sse.ts"
import type { Transport } from "./transport.ts"

/** Trigger options as the client takes them: `delay` may also be a Date. */
export type TriggerRunOptions = Omit<TriggerOptions, "delay"> & { delay?: string | Date }

/** One item of `runs.batchTrigger`: a run of `task`. */
export interface BatchTriggerItem {
  task: string
  payload?: unknown
  options?: TriggerRunOptions
}

/** Trigger options on the wire: a `delay` Date becomes its ISO string. */
export function toWireOptions(options: TriggerRunOptions): TriggerOptions {
  const { delay, ...rest } = options
  return {
    ...rest,
    ...(delay === undefined ? {} : { delay: delay instanceof Date ? delay.toISOString() : delay }),
  }
}

/** A trigger or batch item body: fields left out stay out. */
export function toWireItem(payload: unknown, options: TriggerRunOptions | undefined) {
  const wireOptions = toWireOptions(options ?? {})
  return {
    ...(payload === undefined ? {} : { payload }),
    ...(Object.keys(wireOptions).length > 0 ? { options: wireOptions } : {}),
  }
}

export interface TriggerResult {
  id: string
  /** False when the idempotency key matched an existing run (then `run` is that run). */
  created: boolean
  run?: Run
}

export interface EventsOptions {
  /** Resume after this event id (the SSE `Last-Event-ID`). */
  lastEventId?: string
  signal?: AbortSignal
  /** Reconnections allowed when the connection drops before the run ended (default 5). */
  maxReconnects?: number
}

const path = (runId: string) => `/runs/${encodeURIComponent(runId)}`

export function runsNamespace(t: Transport) {
  return {
    /**
     * Starts a run of a task of the environment's current deployment.
     *
     * @example
     * const { id } = await client.runs.trigger("review-pr", { prNumber: 42 }, {
     *   idempotencyKey: "pr-42", delay: "5m", tags: ["repo:web"],
     * })
     */
    async trigger(
      taskId: string,
      payload?: unknown,
      options: TriggerRunOptions = {},
    ): Promise<TriggerResult> {
      const body = toWireItem(payload, options)
      const res = await t.json(
        "POST",
        `/tasks/${encodeURIComponent(taskId)}/trigger`,
        // 201 `{ id }` for a new run; 200 with the whole run for a known idempotency key.
        TriggerAnswer,
        { body },
      )
      if (res.status === 201 || RunAnswer.safeParse(res.data).success === false) {
        return { id: res.data.id, created: true }
      }
      return { id: res.data.id, created: false, run: res.data as Run }
    },

    /**
     * Starts up to 1,000 runs of any tasks in one request, all or nothing: one bad item creates
     * no run and the `ApiError` names it (`items[3].payload.prNumber`). Runs come back in item
     * order; `created` is false for an item whose idempotency key named an existing run.
     *
     * @example
     * const { runs } = await client.runs.batchTrigger([
     *   { task: "resize", payload: { id: 1 } },
     *   { task: "notify", payload: { userId: "u1" }, options: { idempotencyKey: "notify-u1" } },
     * ])
     */
    async batchTrigger(items: readonly BatchTriggerItem[]): Promise<BatchResponse> {
      const body = {
        items: items.map((i) => ({ task: i.task, ...toWireItem(i.payload, i.options) })),
      }
      return (await t.json("POST", "/batch", BatchResponseAnswer, { body })).data
    },

    /**
     * A run with its status, payload, output, error, attempts, metadata and timestamps.
     *
     * @example
     * const run = await client.runs.retrieve(id)
     * if (run.status === "succeeded") console.log(run.output)
     */
    async retrieve(runId: string): Promise<Run> {
      return (await t.json("GET", path(runId), RunAnswer)).data
    },

    /**
     * One page of runs, newest first. Pass `nextCursor` back as `cursor` for the next page.
     *
     * @example
     * const page = await client.runs.list({ status: ["failed"], task: "review-pr", limit: 50 })
     */
    async list(query: ListRunsQuery = {}): Promise<RunList> {
      return (await t.json("GET", "/runs", RunListAnswer, { query })).data
    },

    /**
     * Cancels a run: a queued or waiting run at once, a running one through its runner.
     *
     * @example
     * const run = await client.runs.cancel(id) // run.status or run.cancelRequestedAt tells which
     */
    async cancel(runId: string): Promise<Run> {
      return (await t.json("POST", `${path(runId)}/cancel`, RunAnswer)).data
    },

    /**
     * Runs the task again with the same payload; the new run's `replayOf` is the original.
     *
     * @example
     * const { id } = await client.runs.replay(failedRunId)
     */
    async replay(runId: string): Promise<{ id: string }> {
      return (await t.json("POST", `${path(runId)}/replay`, TriggerAnswer)).data
    },

    /**
     * The run's events as they happen, from the first (or after `lastEventId`); ends when the
     * run is final. Reconnects with `Last-Event-ID` if the connection drops.
     *
     * @example
     * for await (const event of client.runs.events(id)) console.log(event.type, event.data)
     */
    async *events(runId: string, options: EventsOptions = {}): AsyncGenerator<RunEvent> {
      let lastEventId = options.lastEventId
      const open = () =>
        t.stream(`${path(runId)}/events`, {
          ...(lastEventId ? { headers: { "last-event-id": lastEventId } } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        })
      for await (const message of followSse(open, {
        ...options,
        what: `event stream of ${runId}`,
      })) {
        if (message.event === "end") {
          parseMessage(RunStreamEndAnswer, message.data)
          return
        }
        if (message.event !== "message") continue
        const event = parseMessage(RunEventAnswer, message.data)
        lastEventId = event.id
        yield event
      }
    },
  }
}

export type RunsNamespace = ReturnType<typeof runsNamespace>
