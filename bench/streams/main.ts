import { join } from "node:path"
import { loadLine, ms, summarize } from "@helmr/bench-stats"
import { bundleProject, waitForRun } from "@helmr/runner/testing/deployments"
import { BASE_IMAGE } from "@helmr/runner/testing/fixtures"
import { startRunnerHarness } from "@helmr/runner/testing/harness"
import { startApiProcess } from "@helmr/runner/testing/services"
import { createClient } from "@helmr/sdk"

/**
 * bench/streams: `streams.append` in a real sandbox → runner batches → `stream_chunks` → API SSE
 * → the client's `streams.read`, one task, one reader.
 *
 * - burst: the task appends `count` chunks as fast as it can; throughput is chunks delivered to
 *   the reader per second (first append → last chunk read), latency is append → read per chunk.
 * - paced: 5,000 chunks/s for `seconds`; latency at the target rate.
 * - baseline, same run: one process inserting the same rows straight into `stream_chunks` with
 *   multi-row INSERTs of 500 (rows/s and statement latency): what Postgres alone allows here.
 *
 *   bun bench/streams/main.ts [count=50000] [seconds=5]
 */

const count = Number(process.argv[2] ?? 50_000)
const seconds = Number(process.argv[3] ?? 5)

const h = await startRunnerHarness("h10a-bench", {
  HELMR_RUNNER_POLL_MS: "20",
  HELMR_RUNNER_LEASE_MS: "30000",
})
const api = await startApiProcess(h)
const client = createClient({ apiUrl: api.url, apiKey: h.apiKey })

async function measure(payload: { count: number; rate: number }) {
  const run = await h.trigger({ deploymentId, taskId: "produce", payload })
  const latencies: number[] = []
  let first = 0
  let last = 0
  let expected = 0
  for await (const chunk of client.streams.read(run.sessionId, "bench")) {
    const now = Date.now()
    const { i, t } = chunk.data as { i: number; t: number }
    if (i !== expected || chunk.offset !== i)
      throw new Error(`chunk ${i} at ${chunk.offset}, expected ${expected}`)
    expected += 1
    if (first === 0) first = t
    last = now
    latencies.push(now - t)
  }
  const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 120_000)
  if (done.status !== "succeeded")
    throw new Error(`run ${done.status}: ${JSON.stringify(done.error)}`)
  if (expected !== payload.count) throw new Error(`read ${expected} of ${payload.count} chunks`)
  const appendMs = (done.output as { appendMs: number }).appendMs
  return {
    latency: summarize(latencies),
    perSecond: (expected / (last - first)) * 1000,
    appendMs,
    sessionId: run.sessionId,
  }
}

/** Inserts into the stream `baseline` of an existing session (the warm-up run's). */
async function baseline(sessionId: string, rows: number) {
  const batch = 500
  const statements: number[] = []
  const started = performance.now()
  for (let offset = 0; offset < rows; offset += batch) {
    const seqs: number[] = []
    const data: string[] = []
    for (let k = 0; k < batch && offset + k < rows; k++) {
      seqs.push(offset + k)
      data.push(JSON.stringify({ i: offset + k, t: Date.now() }))
    }
    const t0 = performance.now()
    await h.db.sql`
      insert into stream_chunks (session_id, stream, seq, data)
      select ${sessionId}, 'baseline', q, d from unnest(${seqs}::bigint[], ${data}::text[]) as c(q, d)`
    statements.push(performance.now() - t0)
  }
  const perSecond = (rows / (performance.now() - started)) * 1000
  return { statement: summarize(statements), perSecond }
}

const line = (name: string, latency: ReturnType<typeof summarize>, perSecond: number, extra = "") =>
  `${name.padEnd(30)} median ${ms(latency.p50).padStart(9)}   p99 ${ms(latency.p99).padStart(9)}   throughput ${perSecond.toFixed(0).padStart(7)} chunks/s${extra}`

let deploymentId = ""
try {
  deploymentId = await h.deploy({
    bundle: await bundleProject(join(import.meta.dir, "task")),
    manifest: {
      version: 1,
      entry: "index.js",
      tasks: [
        {
          id: "produce",
          kind: "task",
          exportName: "produce",
          sandbox: "sb",
          payloadSchema: {
            type: "object",
            properties: {
              count: { type: "integer" },
              rate: { type: "number" },
            },
            required: ["count", "rate"],
          },
        },
      ],
      sandboxes: [
        {
          name: "sb",
          image: "img",
          network: "none",
          resources: { cpu: 1, memory: "256Mi", memoryBytes: 256 << 20 },
        },
      ],
      images: [{ name: "img", from: BASE_IMAGE, steps: [{ op: "workdir", path: "/workspace" }] }],
    },
  })
  console.log(`bench/streams: ${count} chunks burst, ${seconds} s paced at 5000/s`)
  console.log(`before: ${loadLine()}`)
  // Warm-up: builds the image, starts the connections (not measured).
  const warm = await measure({ count: 1_000, rate: 0 })

  const base = await baseline(warm.sessionId, count)
  const burst = await measure({ count, rate: 0 })
  const paced = await measure({ count: seconds * 5_000, rate: 5_000 })
  console.log(
    line(
      "baseline: raw INSERT ×500",
      base.statement,
      base.perSecond,
      "   (latency = one statement)",
    ),
  )
  console.log(
    line(
      "burst: append → SSE",
      burst.latency,
      burst.perSecond,
      `   (task appended in ${burst.appendMs} ms)`,
    ),
  )
  console.log(
    line(
      "paced 5000/s: append → SSE",
      paced.latency,
      paced.perSecond,
      `   (task appended in ${paced.appendMs} ms)`,
    ),
  )
  console.log(`after: ${loadLine()}`)
} finally {
  api.proc.kill("SIGTERM")
  await api.proc.exited
  await h.stop()
}
