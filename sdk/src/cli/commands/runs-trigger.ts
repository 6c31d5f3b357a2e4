import { Run, TriggerResponse } from "../../contract/runs.ts"
import { callApi } from "../api.ts"
import type { CliConfig } from "../config.ts"
import { usageError } from "../errors.ts"
import { RUNS_HELP } from "../help-commands.ts"
import {
  type CliContext,
  connect,
  intFlag,
  listFlag,
  onePositional,
  parseCommand,
  printJson,
  seg,
} from "./context.ts"
import { formatEvent, streamRunEvents } from "./run-events.ts"

/** Exit code of `runs logs --follow` and `runs trigger --follow` when the run did not succeed. */
export const EXIT_RUN_NOT_SUCCEEDED = 3

/** Streams a run's events; with `follow`, until it ends: exit 0 if it succeeded, else 3. */
export async function followRun(
  config: CliConfig,
  id: string,
  follow: boolean,
  json: boolean,
  ctx: CliContext,
): Promise<number> {
  const status = await streamRunEvents(config, id, {
    follow,
    signal: ctx.signal,
    onEvent: (event) => ctx.out.result(json ? JSON.stringify(event) : formatEvent(event)),
  })
  if (!follow || status === null) return 0
  ctx.out.progress(`run ${id} ${status}`)
  return status === "succeeded" ? 0 : EXIT_RUN_NOT_SUCCEEDED
}

/** `helmr runs trigger <task>`. */
export async function trigger(argv: string[], ctx: CliContext): Promise<number> {
  const inv = parseCommand("runs trigger", argv, {
    payload: { type: "string", short: "p" },
    "idempotency-key": { type: "string" },
    delay: { type: "string" },
    ttl: { type: "string" },
    tag: { type: "string" },
    "max-attempts": { type: "string" },
    follow: { type: "boolean", short: "f" },
  })
  if (inv.args.booleans.help) {
    ctx.out.result(RUNS_HELP.trimEnd())
    return 0
  }
  const taskId = onePositional(inv, "the task id")
  const payload = await readPayload(inv.args.strings.payload, ctx, inv.hint)
  const options: Record<string, unknown> = {}
  const key = inv.args.strings["idempotency-key"]
  if (key !== undefined) options.idempotencyKey = key
  if (inv.args.strings.delay !== undefined) options.delay = inv.args.strings.delay
  const ttl = inv.args.strings.ttl
  if (ttl !== undefined) options.ttl = /^\d+$/.test(ttl) ? Number(ttl) : ttl
  const tags = listFlag(inv, "tag")
  if (tags !== undefined) options.tags = tags
  const attempts = intFlag(inv, "max-attempts", { min: 1, max: 100 })
  if (attempts !== undefined) options.maxAttempts = attempts
  const { config } = await connect(ctx, inv)
  const body = {
    ...(payload === undefined ? {} : { payload }),
    ...(Object.keys(options).length > 0 ? { options } : {}),
  }
  const { status, body: answer } = await callApi(
    config,
    { method: "POST", path: `/tasks/${seg(taskId)}/trigger`, body },
    Run.or(TriggerResponse),
  )
  if (status === 200) ctx.out.progress(`an existing run has this idempotency key: ${answer.id}`)
  else ctx.out.progress(`triggered ${taskId}: ${answer.id}`)
  if (inv.args.booleans.follow) return followRun(config, answer.id, true, inv.json, ctx)
  if (inv.json) printJson(ctx, { ...answer, created: status === 201 })
  else ctx.out.result(answer.id)
  return 0
}

/** `--payload '<json>'`, `--payload @file.json` or `--payload -` (stdin). */
async function readPayload(
  raw: string | undefined,
  ctx: CliContext,
  hint: string,
): Promise<unknown> {
  if (raw === undefined) return undefined
  let text = raw
  let from = "--payload"
  if (raw === "-") {
    text = await ctx.readStdin()
    from = "stdin"
  } else if (raw.startsWith("@")) {
    const file = Bun.file(raw.slice(1))
    if (!(await file.exists())) throw usageError(`payload file not found: ${raw.slice(1)}`, hint)
    text = await file.text()
    from = raw.slice(1)
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw usageError(`the payload (${from}) is not JSON: ${reason}`, hint)
  }
}
