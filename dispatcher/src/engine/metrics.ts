/**
 * The dispatcher's metrics in Prometheus text format. Small enough to own: counters with labels
 * and one histogram kind, no registry library.
 */

type Labels = Record<string, string>

function labelText(labels: Labels): string {
  const entries = Object.entries(labels)
  if (entries.length === 0) return ""
  const quote = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
  return `{${entries.map(([k, v]) => `${k}="${quote(v)}"`).join(",")}}`
}

export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>()
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels)
    const current = this.values.get(key)
    if (current) current.value += by
    else this.values.set(key, { labels, value: by })
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`]
    for (const { labels, value } of this.values.values()) {
      lines.push(`${this.name}${labelText(labels)} ${value}`)
    }
    return lines.join("\n")
  }
}

export class Histogram {
  private readonly counts: number[]
  private sum = 0
  private count = 0
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    this.counts = buckets.map(() => 0)
  }

  observe(value: number): void {
    this.sum += value
    this.count++
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] as number)) this.counts[i] = (this.counts[i] as number) + 1
    }
  }

  get observations(): number {
    return this.count
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`]
    this.buckets.forEach((bound, i) => {
      lines.push(`${this.name}_bucket{le="${bound}"} ${this.counts[i]}`)
    })
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`)
    lines.push(`${this.name}_sum ${this.sum}`)
    lines.push(`${this.name}_count ${this.count}`)
    return lines.join("\n")
  }
}

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
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
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
  return {
    ...metrics,
    render(): string {
      return `${Object.values(metrics)
        .map((m) => m.render())
        .join("\n")}\n`
    },
  }
}

export type DispatcherMetrics = ReturnType<typeof createMetrics>
