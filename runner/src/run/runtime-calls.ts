import {
  createScheduleOp,
  deleteScheduleOp,
  listSchedulesOp,
  retrieveScheduleOp,
  setScheduleActiveOp,
  updateScheduleOp,
} from "@helmr/migrations/queries/schedules"
import { createToken, toCreatedToken, tokenInput } from "@helmr/migrations/queries/tokens"
import type { RunRow } from "@helmr/migrations/rows"
import { RUNTIME_CALLS, type RuntimeMethod } from "@helmr/sdk/contract"
import type { CallMessage, SerializedError } from "@helmr/sdk/runtime/protocol"
import type { z } from "zod"
import type { RunnerDeps } from "./deps.ts"
import { CallRefused } from "./runtime-call-error.ts"
import { runScheduleCall, triggerFromRun } from "./runtime-client.ts"
import {
  callKey,
  startChildWait,
  startTimerWait,
  startTokenWait,
  type WaitStart,
} from "./wait-calls.ts"

/**
 * Calls from task code (the runtime channel) answered by the runner, always as the run's own
 * environment: the sandbox holds no API key and has no route to the API. Parameters come from
 * user code and are checked with the contract's schemas; a refusal reaches the task as a
 * `RuntimeCallError` with the code and fields the HTTP API would give.
 */

export type CallOutcome = WaitStart | { error: SerializedError }

type Attempt = Pick<RunRow, "id" | "environmentId" | "attempt" | "deploymentId">

function parse<M extends RuntimeMethod>(
  method: M,
  params: unknown,
): z.infer<(typeof RUNTIME_CALLS)[M]> {
  const parsed = RUNTIME_CALLS[method].safeParse(params ?? {})
  if (parsed.success) return parsed.data as z.infer<(typeof RUNTIME_CALLS)[M]>
  const details = parsed.error.issues.map((i) => ({
    path: i.path.map(String).join(".") || "(params)",
    message: i.message,
  }))
  throw new CallRefused(
    "validation_failed",
    `${method}: ${details.map((d) => `${d.path}: ${d.message}`).join("; ")}`,
    details,
  )
}

async function dispatch(
  deps: RunnerDeps,
  run: Attempt,
  call: CallMessage,
  receivedAt: Date,
): Promise<WaitStart> {
  const method = call.method as RuntimeMethod
  if (!Object.hasOwn(RUNTIME_CALLS, method)) {
    throw new CallRefused("validation_failed", `unknown runtime method ${call.method}`)
  }
  switch (method) {
    case "timers.wait":
      return startTimerWait(deps, run, call.id, parse(method, call.params), receivedAt)
    case "tokens.wait":
      return startTokenWait(deps, run, parse(method, call.params).tokenId)
    case "tokens.create": {
      const made = tokenInput(
        run.environmentId,
        parse(method, call.params),
        new Date(),
        callKey(run.id, call.id),
      )
      if ("issue" in made)
        throw new CallRefused("validation_failed", made.issue.message, [made.issue])
      const { token } = await createToken(deps.sql, made.input)
      return { reply: toCreatedToken(token, deps.publicApiUrl) }
    }
    case "runs.trigger": {
      // Keyed per attempt: a call resent after a runner restart finds its run; a new attempt
      // (the task ran again from the start) triggers anew unless the task passed its own key.
      const key = `run:${run.id}:a${run.attempt}:${call.id}`
      const made = await triggerFromRun(deps, deps.sql, run, parse(method, call.params), key)
      await made.enqueue()
      return { reply: { id: made.run.id, created: made.created } }
    }
    case "runs.triggerAndWait": {
      const params = parse(method, call.params)
      let enqueue = async () => {}
      const start = await startChildWait(deps, run, call.id, async (tx) => {
        const made = await triggerFromRun(deps, tx, run, params, callKey(run.id, call.id))
        enqueue = made.enqueue
        return { childId: made.run.id }
      })
      await enqueue()
      return start
    }
    case "schedules.create": {
      const body = parse(method, call.params)
      return {
        reply: await runScheduleCall(
          deps,
          run,
          async (ctx) => (await createScheduleOp(ctx, body)).schedule,
        ),
      }
    }
    case "schedules.list": {
      const query = parse(method, call.params)
      return { reply: await runScheduleCall(deps, run, (ctx) => listSchedulesOp(ctx, query)) }
    }
    case "schedules.retrieve": {
      const { id } = parse(method, call.params)
      return { reply: await runScheduleCall(deps, run, (ctx) => retrieveScheduleOp(ctx, id)) }
    }
    case "schedules.update": {
      const { id, body } = parse(method, call.params)
      return { reply: await runScheduleCall(deps, run, (ctx) => updateScheduleOp(ctx, id, body)) }
    }
    case "schedules.activate":
    case "schedules.deactivate": {
      const { id } = parse(method, call.params)
      const active = method === "schedules.activate"
      return {
        reply: await runScheduleCall(deps, run, (ctx) => setScheduleActiveOp(ctx, id, active)),
      }
    }
    case "schedules.del": {
      const { id } = parse(method, call.params)
      return { reply: await runScheduleCall(deps, run, (ctx) => deleteScheduleOp(ctx, id)) }
    }
    default:
      return method satisfies never
  }
}

/** Answers one call; never throws (a failure is the call's error). */
export async function runRuntimeCall(
  deps: RunnerDeps,
  run: Attempt,
  call: CallMessage,
  receivedAt: Date = new Date(),
): Promise<CallOutcome> {
  try {
    return await dispatch(deps, run, call, receivedAt)
  } catch (error) {
    if (error instanceof CallRefused) return { error: error.toSerialized() }
    deps.logger.warn({ err: error, runId: run.id, method: call.method }, "runtime call failed")
    return {
      error: {
        name: "RuntimeCallError",
        message: `the runner could not complete ${call.method}: ${error instanceof Error ? error.message : String(error)}`,
        data: { code: "internal" },
      },
    }
  }
}
