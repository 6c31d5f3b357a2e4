/**
 * bench/peers — Helmr beside BullMQ, pg-boss and graphile-worker, same scenarios, same machine,
 * same Postgres and Valkey, one system at a time, in one invocation:
 *
 *   bun bench/peers/main.ts
 *
 * 1. JOBS (10,000) jobs due at one instant (delayed jobs, enqueued LEAD_MS (8 s) ahead): due
 *    instant → every handler started: p50, p99, the last, and jobs per second.
 * 2. SCHEDULES (1,000) every-minute schedules (each system's own cron feature) for MINUTES (3)
 *    minutes: lateness, due instant → handler start, p50/p99/max.
 *
 * Each peer's worker is a no-op handler in a process of its own (worker.ts), concurrency 100,
 * on a fresh database or Redis key prefix of its own; each runs with its recommended settings and
 * once with a fast poll (0.5 s). Helmr's figure is due → the lease held by bench/schedules'
 * consumer (the runner's queue and claim code, 100 at once). SYSTEMS picks rows (comma list of
 * helmr, bullmq, bullmq-fast, pg-boss, pg-boss-fast, graphile-worker, graphile-worker-fast).
 * Prints one table and writes the `## bench/peers` section of DOCS (docs/benchmarks.md; with
 * CI=true only when DOCS is given). CI=true: a tiny burst and no every-minute part (MINUTES=0),
 * a run that proves the bench works in seconds, not a measurement.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { loadLine } from "@helmr/bench-stats"
import { bullmq } from "./bullmq.ts"
import { environment } from "./environment.ts"
import { graphileWorker } from "./graphile-worker.ts"
import { runHelmr } from "./helmr.ts"
import { PEER_IDS, type Peer, type PeerId } from "./peer.ts"
import { pgBoss } from "./pg-boss.ts"
import { markdownTable, table, withSection } from "./report.ts"
import type { Row } from "./results.ts"
import { runPeer, type Sizes } from "./run-peer.ts"

const CI = process.env.CI === "true"
const sizes: Sizes = {
  jobs: Number(process.env.JOBS ?? (CI ? 200 : 10_000)),
  schedules: Number(process.env.SCHEDULES ?? (CI ? 20 : 1_000)),
  minutes: Number(process.env.MINUTES ?? (CI ? 0 : 3)),
  leadMs: Number(process.env.LEAD_MS ?? (CI ? 4_000 : 8_000)),
}
const peers: Record<PeerId, Peer> = { bullmq, "pg-boss": pgBoss, "graphile-worker": graphileWorker }
const ALL = ["helmr", ...PEER_IDS.flatMap((id) => [id, `${id}-fast`])]
const systems = (process.env.SYSTEMS ?? ALL.join(",")).split(",").map((s) => s.trim())
for (const s of systems)
  if (!ALL.includes(s)) throw new Error(`SYSTEMS: unknown ${s}; one of ${ALL.join(", ")}`)
const docsPath =
  process.env.DOCS ??
  (CI ? undefined : new URL("../../docs/benchmarks.md", import.meta.url).pathname)

const startLoad = loadLine()
const started = new Date()
console.log(`bench/peers — ${startLoad}`)
console.log(
  `  ${sizes.jobs} jobs due at one instant; ${sizes.schedules} every-minute schedules × ${sizes.minutes} min`,
)
const rows: Row[] = []
const progress: string[] = []
for (const system of systems) {
  const t0 = Date.now()
  if (system === "helmr") rows.push(...(await runHelmr(sizes)))
  else {
    const fast = system.endsWith("-fast")
    const peer = peers[system.replace(/-fast$/, "") as PeerId]
    rows.push(await runPeer(peer, fast, sizes))
  }
  progress.push(`${system} done in ${((Date.now() - t0) / 1000).toFixed(0)} s — ${loadLine()}`)
  console.log(`  ${progress.at(-1)}`)
}
const endLoad = loadLine()
const result = table(rows, sizes)
console.log(`\n${result}\n\nend — ${endLoad}`)

if (docsPath) {
  const env = await environment()
  const section = [
    "## bench/peers",
    "",
    "`bun bench/peers/main.ts` (env: `JOBS` 10000, `SCHEDULES` 1000, `MINUTES` 3, `LEAD_MS` 8000,",
    "`SYSTEMS` to pick rows, `DOCS` the file to write; `CI=true` is a tiny run with no every-minute part).",
    "",
    "Same machine, same Postgres and Valkey, one system at a time, in one invocation. Each peer's",
    "worker is a no-op handler in a process of its own, concurrency 100, on a fresh database (and a",
    "Redis key prefix of its own); each peer runs with its recommended settings and once with a fast",
    "poll (0.5 s). Helmr's figure stops at the moment the bench/schedules consumer (the runner's own",
    "queue and claim code, 100 at once, no container) holds the run's lease; the peers' at the",
    "moment their handler starts.",
    "",
    `1. **${sizes.jobs.toLocaleString("en-US")} jobs due at one instant**: delayed jobs (BullMQ \`delay\`, pg-boss \`startAfter\`,`,
    "   graphile-worker `runAt`, Helmr `availableAt` as a trigger with `delay` writes it) enqueued",
    `   ${sizes.leadMs / 1000} s before the instant; for Helmr also as schedule instances all due at the`,
    "   instant, fired by 2 dispatchers. Due instant → every handler started: p50, p99, the last, and",
    "   jobs started per second from the instant.",
    `2. **${sizes.schedules.toLocaleString("en-US")} every-minute schedules over ${sizes.minutes} minutes**, each system's own cron feature`,
    "   (BullMQ job schedulers, pg-boss `schedule()` with a key each, graphile-worker's crontab,",
    "   Helmr schedule instances and 2 dispatchers). Lateness: due instant → handler start, against",
    "   the slot the job names (BullMQ `opts.prevMillis`, graphile-worker `_cron.ts`, Helmr",
    "   `slot_at`). A pg-boss job names none, so a schedule's k-th start is its k-th slot: a lost",
    "   slot shows as the next fire a minute late. Fires: slots counted of those owed.",
    "",
    `Run ${started.toISOString().slice(0, 16).replace("T", " ")} UTC (${startLoad} at the start; ${endLoad} at the end).`,
    "",
    result,
    "",
    "Each system's part, as the bench printed it (the load moved during the run):",
    "",
    ...progress.map((p) => `- ${p}`),
    "",
    markdownTable(["what", "value"], env),
    "",
    "Settings, per system: the table's settings column. pg-boss runs a worker fetching batches of",
    "100 whose handler starts every job of the batch (its concurrency), with `burstWhenBatchFull`;",
    "graphile-worker keeps its default pool of 10 connections (it warns that this is below its",
    "concurrency of 100; Postgres here allows 100 connections in all). BullMQ does not poll: its",
    "worker blocks until the next delayed job is due, and `drainDelay` is the wait it would poll",
    "with when idle.",
  ].join("\n")
  // A DOCS path that does not exist yet starts as an empty document.
  const before = existsSync(docsPath) ? readFileSync(docsPath, "utf8") : "# Benchmarks\n"
  writeFileSync(docsPath, withSection(before, section))
  console.log(`wrote the bench/peers section of ${docsPath}`)
}
process.exit(0)
