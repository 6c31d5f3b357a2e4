import { Run, RunList, type RunStatus, TriggerResponse } from "../../contract/runs.ts"
import { callApi } from "../api.ts"
import { CliError, usageError } from "../errors.ts"
import { RUNS_HELP } from "../help-commands.ts"
import {
  type CliContext,
  connect,
  intFlag,
  listFlag,
  noPositionals,
  onePositional,
  parseCommand,
  printJson,
  printTable,
  seg,
} from "./context.ts"
import { followRun, trigger } from "./runs-trigger.ts"

/** `helmr runs list|get|logs|trigger|cancel|replay`. */
export async function runsCommand(argv: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = argv
  switch (sub) {
    case undefined:
    case "help":
    case "-h":
    case "--help":
      ctx.out.result(RUNS_HELP.trimEnd())
      return 0
    case "list":
      return list(rest, ctx)
    case "get":
      return get(rest, ctx)
    case "logs":
      return logs(rest, ctx)
    case "trigger":
      return trigger(rest, ctx)
    case "cancel":
    case "replay":
      return act(sub, rest, ctx)
    default:
      throw usageError(`unknown runs command '${sub}'`, "Run 'helmr runs --help' for usage.")
  }
}

function helpFor(inv: { args: { booleans: Record<string, boolean> } }, ctx: CliContext): boolean {
  if (inv.args.booleans.help) ctx.out.result(RUNS_HELP.trimEnd())
  return inv.args.booleans.help === true
}

async function list(argv: string[], ctx: CliContext): Promise<number> {
  const inv = parseCommand("runs list", argv, {
    status: { type: "string", short: "s" },
    task: { type: "string", short: "t" },
    tag: { type: "string" },
    schedule: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    limit: { type: "string", short: "n" },
    cursor: { type: "string" },
  })
  if (helpFor(inv, ctx)) return 0
  noPositionals(inv)
  const query = new URLSearchParams()
  for (const s of listFlag(inv, "status") ?? []) query.append("status", s)
  for (const t of listFlag(inv, "tag") ?? []) query.append("tag", t)
  for (const name of ["task", "schedule", "from", "to", "cursor"]) {
    const value = inv.args.strings[name]
    if (value !== undefined) query.set(name, value)
  }
  query.set("limit", String(intFlag(inv, "limit", { min: 1, max: 100, default: 20 })))
  const { config } = await connect(ctx, inv)
  const { body } = await callApi(config, { method: "GET", path: `/runs?${query}` }, RunList)
  if (inv.json) {
    printJson(ctx, body)
    return 0
  }
  if (body.data.length === 0) {
    ctx.out.result("no runs")
    return 0
  }
  printTable(
    ctx,
    ["ID", "STATUS", "TASK", "CREATED", "TAGS"],
    body.data.map((r) => [r.id, r.status, r.taskId, r.createdAt, r.tags.join(",")]),
  )
  if (body.nextCursor) ctx.out.progress(`more runs: --cursor ${body.nextCursor}`)
  return 0
}

async function get(argv: string[], ctx: CliContext): Promise<number> {
  const inv = parseCommand("runs get", argv)
  if (helpFor(inv, ctx)) return 0
  const id = onePositional(inv, "the run id (run_…)")
  const { config } = await connect(ctx, inv)
  const { body: run } = await callApi(config, { method: "GET", path: `/runs/${seg(id)}` }, Run)
  if (inv.json) printJson(ctx, run)
  else for (const line of describeRun(run)) ctx.out.result(line)
  return 0
}

/** A run as `key: value` lines. */
export function describeRun(run: Run): string[] {
  const json = (v: unknown) => JSON.stringify(v)
  const lines = [
    `id:          ${run.id}`,
    `task:        ${run.taskId}`,
    `status:      ${run.status}`,
    `attempt:     ${run.attempt} of ${run.maxAttempts}`,
    `deployment:  ${run.deploymentId}`,
    `created:     ${run.createdAt}`,
    `started:     ${run.startedAt ?? "-"}`,
    `finished:    ${run.finishedAt ?? "-"}`,
  ]
  if (run.tags.length > 0) lines.push(`tags:        ${run.tags.join(", ")}`)
  if (run.scheduleId) lines.push(`schedule:    ${run.scheduleId}`)
  if (run.replayOf) lines.push(`replay of:   ${run.replayOf}`)
  if (run.idempotencyKey) lines.push(`idempotency: ${run.idempotencyKey}`)
  if (run.cancelRequestedAt) lines.push(`cancel asked: ${run.cancelRequestedAt}`)
  lines.push(`payload:     ${json(run.payload)}`)
  if (run.output !== null && run.output !== undefined)
    lines.push(`output:      ${json(run.output)}`)
  if (run.error !== null && run.error !== undefined) lines.push(`error:       ${json(run.error)}`)
  return lines
}

async function logs(argv: string[], ctx: CliContext): Promise<number> {
  const inv = parseCommand("runs logs", argv, { follow: { type: "boolean", short: "f" } })
  if (helpFor(inv, ctx)) return 0
  const id = onePositional(inv, "the run id (run_…)")
  const { config } = await connect(ctx, inv)
  // A 404 (unknown run) is answered here, with the API's message, before any streaming.
  await callApi(config, { method: "GET", path: `/runs/${seg(id)}` }, Run)
  return followRun(config, id, inv.args.booleans.follow === true, inv.json, ctx)
}

async function act(verb: "cancel" | "replay", argv: string[], ctx: CliContext): Promise<number> {
  const inv = parseCommand(`runs ${verb}`, argv)
  if (helpFor(inv, ctx)) return 0
  const id = onePositional(inv, "the run id (run_…)")
  const { config } = await connect(ctx, inv)
  const path = `/runs/${seg(id)}/${verb}`
  if (verb === "replay") {
    const { body } = await callApi(config, { method: "POST", path, body: {} }, TriggerResponse)
    if (inv.json) printJson(ctx, body)
    else ctx.out.result(body.id)
    ctx.out.progress(`replayed ${id} as ${body.id}`)
    return 0
  }
  const { body: run } = await callApi(config, { method: "POST", path, body: {} }, Run)
  if (inv.json) printJson(ctx, run)
  else ctx.out.result(describeCancel(run.id, run.status, run.cancelRequestedAt))
  return 0
}

function describeCancel(id: string, status: RunStatus, requested: string | null): string {
  if (status === "canceled") return `${id} canceled`
  if (requested) return `${id}: cancel requested; its runner stops it (status ${status})`
  throw new CliError(`${id} was not canceled (status ${status})`)
}
