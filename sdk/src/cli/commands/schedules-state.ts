import { z } from "zod"
import { DeletedSchedule, Schedule } from "../../contract/schedules.ts"
import { callApi } from "../api.ts"
import { CliError } from "../errors.ts"
import { SCHEDULES_HELP } from "../help-commands.ts"
import {
  type CliContext,
  connect,
  type Invocation,
  intFlag,
  onePositional,
  parseCommand,
  printJson,
  printTable,
  seg,
} from "./context.ts"

/** `helmr schedules activate|deactivate|delete|slots`: a schedule's state and its slot ledger. */

/** Prints the help for `--help`; true when it did. */
export function helped(inv: Invocation, ctx: CliContext): boolean {
  if (inv.args.booleans.help) ctx.out.result(SCHEDULES_HELP.trimEnd())
  return inv.args.booleans.help === true
}

export async function toggle(
  verb: "activate" | "deactivate",
  argv: string[],
  ctx: CliContext,
): Promise<number> {
  const inv = parseCommand(`schedules ${verb}`, argv)
  if (helped(inv, ctx)) return 0
  const id = onePositional(inv, "the schedule id (sched_…) or deduplication key")
  const { config } = await connect(ctx, inv)
  const { body } = await callApi(
    config,
    { method: "POST", path: `/schedules/${seg(id)}/${verb}`, body: {} },
    Schedule,
  )
  if (inv.json) printJson(ctx, body)
  else {
    const next = body.nextRun ? `, next run ${body.nextRun}` : ""
    ctx.out.result(`${body.id} ${body.active ? "active" : "inactive"}${next}`)
  }
  return 0
}

export async function remove(argv: string[], ctx: CliContext): Promise<number> {
  const inv = parseCommand("schedules delete", argv)
  if (helped(inv, ctx)) return 0
  const id = onePositional(inv, "the schedule id (sched_…) or deduplication key")
  const { config } = await connect(ctx, inv)
  const { body } = await callApi(
    config,
    { method: "DELETE", path: `/schedules/${seg(id)}` },
    DeletedSchedule,
  )
  if (inv.json) printJson(ctx, body)
  else ctx.out.result(`${body.id} deleted`)
  return 0
}

/** One slot of the ledger, read loosely: the route is newer than this CLI may be. */
const Slot = z.looseObject({
  slotAt: z.string().optional(),
  outcome: z.string().optional(),
  reason: z.string().nullable().optional(),
  runId: z.string().nullable().optional(),
})
const SlotList = z.looseObject({
  data: z.array(Slot),
  nextCursor: z.string().nullable().optional(),
})

export async function slots(argv: string[], ctx: CliContext): Promise<number> {
  const inv = parseCommand("schedules slots", argv, {
    limit: { type: "string", short: "n" },
    cursor: { type: "string" },
  })
  if (helped(inv, ctx)) return 0
  const id = onePositional(inv, "the schedule id (sched_…) or deduplication key")
  const query = new URLSearchParams()
  query.set("limit", String(intFlag(inv, "limit", { min: 1, max: 100, default: 20 })))
  if (inv.args.strings.cursor !== undefined) query.set("cursor", inv.args.strings.cursor)
  const { config } = await connect(ctx, inv)
  let body: z.infer<typeof SlotList>
  try {
    body = (
      await callApi(
        config,
        { method: "GET", path: `/schedules/${seg(id)}/slots?${query}` },
        SlotList,
      )
    ).body
  } catch (error) {
    if (error instanceof CliError && error.message.includes("no route for")) {
      throw new CliError(
        `this Helmr API has no slot ledger (GET /api/v1/schedules/{id}/slots answered 404): upgrade the server to read a schedule's slots`,
      )
    }
    throw error
  }
  if (inv.json) {
    printJson(ctx, body)
    return 0
  }
  if (body.data.length === 0) {
    ctx.out.result("no slots recorded yet")
    return 0
  }
  printTable(
    ctx,
    ["SLOT", "OUTCOME", "RUN", "REASON"],
    body.data.map((s) => [s.slotAt ?? "-", s.outcome ?? "-", s.runId ?? "-", s.reason ?? ""]),
  )
  return 0
}
