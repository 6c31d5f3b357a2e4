import { Schedule, ScheduleList } from "../../contract/schedules.ts"
import { callApi } from "../api.ts"
import { usageError } from "../errors.ts"
import { SCHEDULES_HELP } from "../help-commands.ts"
import {
  type CliContext,
  connect,
  type Invocation,
  intFlag,
  listFlag,
  noPositionals,
  onePositional,
  parseCommand,
  printJson,
  printTable,
  seg,
} from "./context.ts"
import { helped, remove, slots, toggle } from "./schedules-state.ts"

const DEFINITION = {
  task: { type: "string", short: "t" },
  cron: { type: "string", short: "c" },
  timezone: { type: "string", short: "z" },
  "external-id": { type: "string" },
  tag: { type: "string" },
  "max-attempts": { type: "string" },
} as const

/** `helmr schedules list|get|create|update|activate|deactivate|delete|slots`. */
export async function schedulesCommand(argv: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = argv
  switch (sub) {
    case undefined:
    case "help":
    case "-h":
    case "--help":
      ctx.out.result(SCHEDULES_HELP.trimEnd())
      return 0
    case "list":
      return list(rest, ctx)
    case "get":
      return get(rest, ctx)
    case "create":
      return create(rest, ctx)
    case "update":
      return update(rest, ctx)
    case "activate":
    case "deactivate":
      return toggle(sub, rest, ctx)
    case "delete":
      return remove(rest, ctx)
    case "slots":
      return slots(rest, ctx)
    default:
      throw usageError(
        `unknown schedules command '${sub}'`,
        "Run 'helmr schedules --help' for usage.",
      )
  }
}

async function list(argv: string[], ctx: CliContext): Promise<number> {
  const inv = parseCommand("schedules list", argv, {
    task: { type: "string", short: "t" },
    kind: { type: "string" },
    limit: { type: "string", short: "n" },
    cursor: { type: "string" },
  })
  if (helped(inv, ctx)) return 0
  noPositionals(inv)
  const query = new URLSearchParams()
  for (const name of ["task", "kind", "cursor"]) {
    const value = inv.args.strings[name]
    if (value !== undefined) query.set(name, value)
  }
  query.set("limit", String(intFlag(inv, "limit", { min: 1, max: 100, default: 50 })))
  const { config } = await connect(ctx, inv)
  const { body } = await callApi(
    config,
    { method: "GET", path: `/schedules?${query}` },
    ScheduleList,
  )
  if (inv.json) {
    printJson(ctx, body)
    return 0
  }
  if (body.data.length === 0) {
    ctx.out.result("no schedules")
    return 0
  }
  printTable(
    ctx,
    ["ID", "TASK", "CRON", "TIMEZONE", "ACTIVE", "NEXT RUN", "KIND", "KEY"],
    body.data.map((s) => [
      s.id,
      s.task,
      s.cron,
      s.timezone,
      s.active ? "yes" : "no",
      s.nextRun ?? "-",
      s.kind,
      s.deduplicationKey,
    ]),
  )
  if (body.nextCursor) ctx.out.progress(`more schedules: --cursor ${body.nextCursor}`)
  return 0
}

/** A schedule as `key: value` lines, with its next fire times. */
export function describeSchedule(s: Schedule): string[] {
  const lines = [
    `id:          ${s.id}`,
    `key:         ${s.deduplicationKey}`,
    `kind:        ${s.kind}`,
    `task:        ${s.task}`,
    `cron:        ${s.cron} (${s.timezone})`,
    `active:      ${s.active ? "yes" : "no"}`,
    `last run:    ${s.lastRun ?? "-"}`,
  ]
  if (s.externalId) lines.push(`external id: ${s.externalId}`)
  if (Object.keys(s.runOptions).length > 0) {
    lines.push(`run options: ${JSON.stringify(s.runOptions)}`)
  }
  lines.push(`upcoming:    ${s.upcoming.length === 0 ? "-" : s.upcoming.slice(0, 5).join(", ")}`)
  return lines
}

function printSchedule(ctx: CliContext, inv: Invocation, s: Schedule): void {
  if (inv.json) printJson(ctx, s)
  else for (const line of describeSchedule(s)) ctx.out.result(line)
}

async function get(argv: string[], ctx: CliContext): Promise<number> {
  const inv = parseCommand("schedules get", argv)
  if (helped(inv, ctx)) return 0
  const id = onePositional(inv, "the schedule id (sched_…) or deduplication key")
  const { config } = await connect(ctx, inv)
  const { body } = await callApi(config, { method: "GET", path: `/schedules/${seg(id)}` }, Schedule)
  printSchedule(ctx, inv, body)
  return 0
}

/** The body fields create and update share, from flags. */
function definition(inv: Invocation): Record<string, unknown> {
  const { strings } = inv.args
  const task = strings.task
  const cron = strings.cron
  if (task === undefined) throw usageError("missing --task <task id>", inv.hint)
  if (cron === undefined) throw usageError("missing --cron '<5-field cron>'", inv.hint)
  const body: Record<string, unknown> = { task, cron }
  if (strings.timezone !== undefined) body.timezone = strings.timezone
  if (strings["external-id"] !== undefined) body.externalId = strings["external-id"]
  const runOptions: Record<string, unknown> = {}
  const tags = listFlag(inv, "tag")
  if (tags !== undefined) runOptions.tags = tags
  const attempts = intFlag(inv, "max-attempts", { min: 1, max: 100 })
  if (attempts !== undefined) runOptions.maxAttempts = attempts
  if (Object.keys(runOptions).length > 0) body.runOptions = runOptions
  return body
}

async function create(argv: string[], ctx: CliContext): Promise<number> {
  const inv = parseCommand("schedules create", argv, {
    ...DEFINITION,
    key: { type: "string", short: "k" },
  })
  if (helped(inv, ctx)) return 0
  noPositionals(inv)
  const key = inv.args.strings.key
  if (key === undefined) throw usageError("missing --key <deduplication key>", inv.hint)
  const body = { ...definition(inv), deduplicationKey: key }
  const { config } = await connect(ctx, inv)
  const { status, body: schedule } = await callApi(
    config,
    { method: "POST", path: "/schedules", body },
    Schedule,
  )
  ctx.out.progress(
    `${status === 201 ? "created" : "updated"} schedule ${schedule.id} (${schedule.deduplicationKey})`,
  )
  printSchedule(ctx, inv, schedule)
  return 0
}

async function update(argv: string[], ctx: CliContext): Promise<number> {
  const inv = parseCommand("schedules update", argv, DEFINITION)
  if (helped(inv, ctx)) return 0
  const id = onePositional(inv, "the schedule id (sched_…) or deduplication key")
  const body = definition(inv)
  const { config } = await connect(ctx, inv)
  const { body: schedule } = await callApi(
    config,
    { method: "PUT", path: `/schedules/${seg(id)}`, body },
    Schedule,
  )
  printSchedule(ctx, inv, schedule)
  return 0
}
