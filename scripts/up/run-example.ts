/**
 * scripts/up.sh, last step: triggers a task of the deployed examples through the API, prints its
 * events as they happen (build steps, logs, status changes) from the run's SSE stream, then its
 * output. Uses only the public HTTP API.
 *
 *   HELMR_API_URL=… HELMR_API_KEY=… bun scripts/up/run-example.ts <taskId> '<payload json>'
 */

export interface RunEvent {
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
    case "transition": {
      const error = data.error ? `  (${JSON.stringify(data.error)})` : ""
      console.log(`  status   ${data.from ?? "-"} → ${data.to}${error}`)
      return
    }
    case "build":
      if (data.output !== true) console.log(`  build    ${event.message}`)
      return
    case "log":
      console.log(`  log      [${event.level}] ${event.message}`)
      return
    case "started":
      return
    default:
      console.log(`  ${event.type.padEnd(8)} ${event.message ?? JSON.stringify(data)}`)
  }
}

/** Prints the run's events until the stream's `end` event (the run is final). */
async function follow(runId: string): Promise<void> {
  const res = await fetch(`${api}/api/v1/runs/${runId}/events`, { headers })
  if (!res.ok || !res.body) throw new Error(`events of ${runId}: HTTP ${res.status}`)
  const decoder = new TextDecoder()
  let buffer = ""
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true })
    let end = buffer.indexOf("\n\n")
    while (end !== -1) {
      const lines = buffer.slice(0, end).split("\n")
      buffer = buffer.slice(end + 2)
      end = buffer.indexOf("\n\n")
      if (lines.includes("event: end")) return
      const data = lines.find((l) => l.startsWith("data: "))
      if (data) print(JSON.parse(data.slice(6)) as RunEvent)
    }
  }
}

const triggered = await fetch(`${api}/api/v1/tasks/${taskId}/trigger`, {
  method: "POST",
  headers,
  body: JSON.stringify({ payload }),
})
const { id } = (await triggered.json()) as { id?: string }
if (!triggered.ok || !id) throw new Error(`trigger failed: HTTP ${triggered.status}`)
console.log(`up: triggered ${taskId} ${payloadText} → ${id}`)
await follow(id)
const run = (await (await fetch(`${api}/api/v1/runs/${id}`, { headers })).json()) as {
  status: string
  output: unknown
  error: unknown
}
console.log(`up: ${taskId} ${run.status}`)
console.log(`up: output ${JSON.stringify(run.output)}`)
if (run.error) console.log(`up: error ${JSON.stringify(run.error)}`)
process.exitCode = run.status === "succeeded" ? 0 : 1
