import { hashApiKey } from "@helmr/migrations/api-keys"
import { createDb, type Sql } from "@helmr/migrations/db"
import { insertRun } from "@helmr/migrations/queries/runs"
import { FINAL_RUN_STATUSES, type RunRow } from "@helmr/migrations/rows"
import { createValkey, enqueueRun, valkeyKeys } from "@helmr/migrations/valkey"

/**
 * scripts/up.sh, last step: triggers a task of the deployed examples through the API, prints its
 * events as they happen (build steps, logs, transitions) and then its output.
 *
 *   bun scripts/up/run-example.ts <taskId> '<payload json>'
 *
 * While the API has no trigger route yet (older checkouts) it falls back to what that route does:
 * a run row in Postgres and a queue entry in Valkey, and reads the events from Postgres.
 */

interface RunEvent {
  id: string
  type: string
  level: string | null
  message: string | null
  data: Record<string, unknown> | null
}

const [taskId = "review-pr", payloadText = "{}"] = process.argv.slice(2)
const payload: unknown = JSON.parse(payloadText)
const api = process.env.HELMR_API_URL ?? "http://127.0.0.1:3000"
const headers = {
  authorization: `Bearer ${process.env.HELMR_API_KEY ?? ""}`,
  "content-type": "application/json",
}

function print(event: RunEvent): void {
  const data = event.data ?? {}
  switch (event.type) {
    case "transition":
      console.log(
        `  status   ${data.from ?? "-"} → ${data.to}${data.error ? `  (${JSON.stringify(data.error)})` : ""}`,
      )
      return
    case "build":
      if (data.output !== true) console.log(`  build    ${event.message}`)
      return
    case "log":
      console.log(`  log      [${event.level}] ${event.message}`)
      return
    default:
      if (event.type !== "started")
        console.log(`  ${event.type.padEnd(8)} ${event.message ?? JSON.stringify(data)}`)
  }
}

async function triggerByApi(): Promise<string | null> {
  const res = await fetch(`${api}/api/v1/tasks/${taskId}/trigger`, {
    method: "POST",
    headers,
    body: JSON.stringify({ payload }),
  })
  const body = (await res.json()) as { id?: string; error?: { message?: string } }
  if (res.status === 404 && body.error?.message?.startsWith("no route")) return null
  if (!res.ok || !body.id)
    throw new Error(`trigger failed (${res.status}): ${JSON.stringify(body)}`)
  return body.id
}

/** The trigger route's work, for checkouts without it. */
async function triggerDirect(sql: Sql): Promise<string> {
  const [env] = await sql<{ id: string; currentDeploymentId: string | null }[]>`
    select e.id, e.current_deployment_id from environments e join api_keys k on k.environment_id = e.id
    where k.key_hash = ${hashApiKey(process.env.HELMR_API_KEY ?? "")}`
  if (!env?.currentDeploymentId) throw new Error("no promoted deployment in this environment")
  const { run } = await insertRun(sql, {
    environmentId: env.id,
    deploymentId: env.currentDeploymentId,
    taskId,
    payload,
  })
  const valkey = createValkey(process.env.HELMR_VALKEY_URL ?? "redis://127.0.0.1:6379")
  await enqueueRun(valkey, valkeyKeys(process.env.HELMR_KEY_PREFIX ?? "helmr"), run.id)
  valkey.disconnect()
  return run.id
}

async function followByApi(runId: string): Promise<boolean> {
  const res = await fetch(`${api}/api/v1/runs/${runId}/events`, { headers })
  if (!res.ok || !res.body) return false
  let buffer = ""
  const decoder = new TextDecoder()
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true })
    let end = buffer.indexOf("\n\n")
    while (end !== -1) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      end = buffer.indexOf("\n\n")
      const data = block.split("\n").find((l) => l.startsWith("data: "))
      if (block.split("\n").includes("event: end")) return true
      if (data) print(JSON.parse(data.slice(6)) as RunEvent)
    }
  }
  return true
}

async function followDirect(sql: Sql, runId: string): Promise<void> {
  let last = "0"
  for (;;) {
    const [run] = await sql<RunRow[]>`select * from runs where id = ${runId}`
    const events = await sql<RunEvent[]>`
      select id::text, type, level, message, data from run_events
      where run_id = ${runId} and run_events.id > ${last} order by run_events.id`
    for (const event of events) {
      print(event)
      last = event.id
    }
    if (run && FINAL_RUN_STATUSES.includes(run.status)) return
    await Bun.sleep(200)
  }
}

const sql = createDb(process.env.HELMR_DATABASE_URL ?? "", { max: 2, applicationName: "helmr-up" })
try {
  let runId = await triggerByApi()
  const viaApi = runId !== null
  runId ??= await triggerDirect(sql)
  console.log(`up: triggered ${taskId} ${JSON.stringify(payload)} → ${runId}`)
  if (!viaApi || !(await followByApi(runId))) await followDirect(sql, runId)
  const [run] = await sql<RunRow[]>`select * from runs where id = ${runId}`
  console.log(`up: ${taskId} ${run?.status} after ${run?.attempt} attempt(s)`)
  console.log(`up: output ${JSON.stringify(run?.output)}`)
  if (run?.error) console.log(`up: error ${JSON.stringify(run.error)}`)
  process.exitCode = run?.status === "succeeded" ? 0 : 1
} finally {
  await sql.end({ timeout: 5 })
}
