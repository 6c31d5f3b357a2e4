/** The dispatcher's metrics, rendered by the shared registry (`@helmr/migrations/metrics`). */
import { Counter, Histogram, metricRegistry, SECONDS_BUCKETS } from "@helmr/migrations/metrics"

export function createMetrics() {
  const metrics = {
    fires: new Counter(
      "helmr_dispatcher_fires_total",
      "Schedule slots handled, by outcome (fired, failed, skipped).",
    ),
    skips: new Counter(
      "helmr_dispatcher_skips_total",
      "Skipped slots by reason (missed, overlap, catchup_window).",
    ),
    lateness: new Histogram(
      "helmr_dispatcher_fire_lateness_seconds",
      "Time from a slot's nominal time to the commit of its run.",
      SECONDS_BUCKETS,
    ),
    retries: new Counter(
      "helmr_dispatcher_fire_retries_total",
      "Fire attempts that failed and were scheduled again, by reason.",
    ),
    staleLeases: new Counter(
      "helmr_dispatcher_stale_leases_total",
      "Leased slots superseded because the schedule changed, moved on, or went away.",
    ),
    repairs: new Counter(
      "helmr_dispatcher_repairs_total",
      "Valkey entries repaired from Postgres, by kind.",
    ),
    timers: new Counter(
      "helmr_dispatcher_timers_total",
      "Timers acted on: timed waits resumed, queued runs expired.",
    ),
    overlap: new Counter(
      "helmr_dispatcher_overlap_total",
      "Overlap actions: held runs released, previous runs canceled (cancelPrevious).",
    ),
    errors: new Counter("helmr_dispatcher_errors_total", "Loop iterations that failed, by loop."),
  }
  return metricRegistry(metrics)
}

export type DispatcherMetrics = ReturnType<typeof createMetrics>
