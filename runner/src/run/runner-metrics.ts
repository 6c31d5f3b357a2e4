import type { Sql } from "@helmr/migrations/db"
import {
  Counter,
  Gauge,
  Histogram,
  metricRegistry,
  SECONDS_BUCKETS,
} from "@helmr/migrations/metrics"

/** Seconds buckets for image builds, which run from a cache hit (ms) to minutes. */
const BUILD_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800] as const

/** The runner's Prometheus metrics, one registry per runner process (served on `/metrics`). */
export function createRunnerMetrics() {
  const metrics = metricRegistry({
    runs: new Gauge(
      "helmr_runner_runs",
      "Runs owned by this runner, by state (starting: claimed, building, starting the sandbox; running; waiting: parked with its sandbox alive), read from Postgres at scrape.",
    ),
    finished: new Counter(
      "helmr_runner_runs_finished_total",
      "Attempts this runner finished, by outcome (succeeded, failed, crashed, canceled, timed_out; interrupted when a shutdown sent the run back; lost when another runner took it).",
    ),
    build: new Histogram(
      "helmr_runner_build_duration_seconds",
      "Preparing an attempt's image or workspace (a cache hit is fast), failed builds included.",
      BUILD_BUCKETS,
    ),
    start: new Histogram(
      "helmr_runner_start_duration_seconds",
      "From leasing a run to its task started in the sandbox (build included).",
      SECONDS_BUCKETS,
    ),
    sandboxes: new Gauge(
      "helmr_runner_sandboxes_alive",
      "Sandboxes this runner started and has not removed yet.",
    ),
    warm: new Gauge(
      "helmr_runner_warm_sandboxes",
      "Warm sandboxes ready for a run (started, no run assigned), by deployment and sandbox.",
    ),
    warmTaken: new Counter(
      "helmr_runner_warm_sandboxes_taken_total",
      "Runs started in a warm sandbox (each warm sandbox serves one run).",
    ),
  })
  // Rendered from the start, so a scrape before the first run sees the series at 0.
  for (const state of HELD_STATES) metrics.runs.set({ state }, 0)
  metrics.sandboxes.inc({}, 0)
  return metrics
}
export type RunnerMetrics = ReturnType<typeof createRunnerMetrics>

const HELD_STATES = ["starting", "running", "waiting"] as const

/**
 * Sets `helmr_runner_runs` from Postgres before a scrape: parking, resuming and adopting move a
 * run between states in several places, and the row is the one record they all keep right.
 */
export async function refreshRunStates(
  sql: Sql,
  runnerId: string,
  metrics: RunnerMetrics,
): Promise<void> {
  const rows = await sql<{ status: string; n: number }[]>`
    select status, count(*)::int as n from runs
    where runner_id = ${runnerId} and status in ${sql(HELD_STATES as unknown as string[])}
    group by status`
  for (const state of HELD_STATES)
    metrics.runs.set({ state }, rows.find((r) => r.status === state)?.n ?? 0)
}
