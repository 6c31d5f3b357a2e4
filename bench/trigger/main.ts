/**
 * bench/trigger: sustained trigger throughput and latency of the Helmr API (auth, payload
 * validation against the deployment's JSON Schema, run + session + event insert, Valkey enqueue)
 * beside a bare Hono + postgres.js insert endpoint, both measured in this run on this machine.
 *
 *   bun bench/trigger/main.ts [--seconds 10] [--concurrency 32] [--warmup 2] [--rounds 4]
 *     [--log-level warn] [--profile DIR]
 *
 * Needs Postgres and Valkey (scripts/services.sh). The servers run as their own processes; the
 * load generator shares the machine with them, so absolute figures include its cost too.
 */
import { readFileSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { parseArgs } from "node:util"
import { insertTestDeployment } from "@helmr/api/testing"
import { bootstrapProject } from "@helmr/migrations/bootstrap"
import { createTestDatabase, createTestValkey, testEncryptionKey } from "@helmr/migrations/testing"
import { z } from "zod"
import { formatResult, type LoadResult, mergeResults, runLoad } from "./load.ts"
import { freePort, spawnServer } from "./spawn.ts"

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    concurrency: { type: "string", default: "32" },
    warmup: { type: "string", default: "2" },
    /** Alternating rounds of baseline and Helmr that share `seconds`. */
    rounds: { type: "string", default: "4" },
    /** The API's log level; `info` adds one request log line per trigger. */
    "log-level": { type: "string", default: "warn" },
    /** Writes a CPU profile (markdown) of the API process into this folder. */
    profile: { type: "string" },
  },
})
const load = {
  seconds: Number(values.seconds),
  concurrency: Number(values.concurrency),
  warmupSeconds: Number(values.warmup),
  rounds: Math.max(1, Number(values.rounds)),
}
const root = new URL("../..", import.meta.url).pathname

const db = await createTestDatabase("i4bench")
const valkey = createTestValkey("i4bench")
const project = await bootstrapProject(db.sql, { slug: "bench" })
const dev = project.environments.find((e) => e.slug === "dev")!
await insertTestDeployment(db.sql, {
  environmentId: dev.id,
  projectId: project.projectId,
  manifest: {
    version: 1,
    entry: "index.js",
    tasks: [
      {
        id: "review-pr",
        kind: "task",
        exportName: "reviewPr",
        sandbox: "default",
        secrets: [],
        payloadSchema: z.toJSONSchema(
          z.object({ prNumber: z.number().int().positive(), repo: z.string().min(1) }),
        ) as Record<string, unknown>,
      },
    ],
    sandboxes: [{ name: "default", image: "default", workspace: "/workspace", network: "bridge" }],
    images: [{ name: "default", from: "helmr-local/bun:1.4.5", steps: [] }],
  },
})

const apiUrl = `http://127.0.0.1:${freePort()}`
const apiProc = await spawnServer(
  [
    "bun",
    ...(values.profile ? ["--cpu-prof-md", `--cpu-prof-dir=${values.profile}`] : []),
    `${root}api/main.ts`,
  ],
  {
    HELMR_DATABASE_URL: db.url,
    HELMR_VALKEY_URL: "redis://127.0.0.1:6379",
    HELMR_ENCRYPTION_KEY: testEncryptionKey(),
    HELMR_KEY_PREFIX: valkey.prefix,
    HELMR_API_PORT: new URL(apiUrl).port,
    HELMR_API_HOST: "127.0.0.1",
    HELMR_LOG_LEVEL: values["log-level"],
    HELMR_RATE_LIMIT: "0",
    HELMR_MIGRATE_ON_START: "false",
  },
  `${apiUrl}/healthz`,
)
const baselineUrl = `http://127.0.0.1:${freePort()}`
const baselineProc = await spawnServer(
  ["bun", `${root}bench/trigger/baseline.ts`],
  { BENCH_DATABASE_URL: db.url, BENCH_PORT: new URL(baselineUrl).port },
  `${baselineUrl}/healthz`,
)

/** utime + stime of a process, in seconds (Linux /proc; 0 elsewhere). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return 0
  }
}
/** CPU seconds of the Postgres backends serving one application (this bench's database only). */
async function backendCpuSeconds(applicationName: string): Promise<number> {
  const rows = await db.sql<{ pid: number }[]>`
    select pid from pg_stat_activity
    where datname = current_database() and application_name = ${applicationName}`
  return rows.reduce((sum, r) => sum + cpuSeconds(r.pid), 0)
}
const cpuPerRequest = (seconds: number, r: { ok: number; seconds: number }) =>
  ((seconds * 1000) / ((r.ok * (r.seconds + load.warmupSeconds)) / r.seconds)).toFixed(3)

const body = (i: number) => JSON.stringify({ payload: { prNumber: i + 1, repo: "web" } })
try {
  console.log(
    `bench/trigger: ${load.concurrency} concurrent clients, ${load.seconds}s measured after ${load.warmupSeconds}s warm-up, API log level ${values["log-level"]}; ${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  )
  // Rounds alternate baseline and Helmr, so a change of the machine's load during the run falls
  // on both sides alike; each side's rounds are added up.
  const targets = [
    {
      name: "baseline: bare Hono + postgres.js",
      pid: baselineProc.pid,
      application: "bench-baseline",
      send: (i: number) =>
        fetch(`${baselineUrl}/trigger`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: body(i),
        }),
    },
    {
      name: "helmr: POST /tasks/review-pr/trigger",
      pid: apiProc.pid,
      application: "helmr-api",
      send: (i: number) =>
        fetch(`${apiUrl}/api/v1/tasks/review-pr/trigger`, {
          method: "POST",
          headers: { authorization: `Bearer ${dev.apiKey}`, "content-type": "application/json" },
          body: body(i),
        }),
    },
  ]
  const rounds: LoadResult[][] = [[], []]
  const cpu = [0, 0]
  const dbCpu = [0, 0]
  for (let round = 0; round < load.rounds; round++) {
    for (const [k, target] of targets.entries()) {
      const before = cpuSeconds(target.pid)
      const dbBefore = await backendCpuSeconds(target.application)
      const options = {
        ...load,
        seconds: load.seconds / load.rounds,
        warmupSeconds: round === 0 ? load.warmupSeconds : 0,
      }
      rounds[k]!.push(await runLoad(target.name, options, target.send, 201))
      cpu[k]! += cpuSeconds(target.pid) - before
      dbCpu[k]! += (await backendCpuSeconds(target.application)) - dbBefore
    }
  }
  const results = rounds.map(mergeResults)
  for (const r of results) console.log(formatResult(r))
  // Server CPU per request (warm-up included in both): what each costs in its own process.
  console.log(
    `server CPU per request: baseline ${cpuPerRequest(cpu[0]!, results[0]!)} ms, helmr ${cpuPerRequest(cpu[1]!, results[1]!)} ms`,
  )
  // Postgres CPU per request: the backends of each server's pool (Valkey's is not split out).
  console.log(
    `Postgres CPU per request: baseline ${cpuPerRequest(dbCpu[0]!, results[0]!)} ms, helmr ${cpuPerRequest(dbCpu[1]!, results[1]!)} ms`,
  )
  const [runs] = await db.sql<{ n: number }[]>`select count(*)::int as n from runs`
  const queued = await valkey.valkey.zcard(valkey.keys.runQueue)
  console.log(`check: ${runs?.n} runs in Postgres, ${queued} in the Valkey queue`)
  const [base, helmr] = [results[0]!, results[1]!]
  console.log(
    `helmr/baseline throughput: ${((helmr.ok / base.ok) * 100).toFixed(0)}%; load after: ${loadavg()[0]?.toFixed(2)}`,
  )
} finally {
  apiProc.kill("SIGTERM")
  baselineProc.kill("SIGTERM")
  await Promise.all([apiProc.exited, baselineProc.exited])
  await valkey.cleanup()
  await db.drop()
}
