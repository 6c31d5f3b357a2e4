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
      "Attempts this runner holds, by state (starting: claimed, building or starting the sandbox; running). A waiting run holds no runner.",
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
  })
  // Rendered from the start, so a scrape before the first run sees the series at 0.
  metrics.runs.inc({ state: "starting" }, 0)
  metrics.runs.inc({ state: "running" }, 0)
  metrics.sandboxes.inc({}, 0)
  return metrics
}
export type RunnerMetrics = ReturnType<typeof createRunnerMetrics>
