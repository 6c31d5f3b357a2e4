/**
 * Prometheus text exposition (format 0.0.4) for every Helmr service: counters, gauges and
 * histograms with labels, no registry library. One owner: the dispatcher, the API and the runner
 * all render through here. Label values must come from bounded sets (route patterns, statuses),
 * never from user input, or the series grow without end.
 */

export type Labels = Record<string, string>

/** The `Content-Type` of a `/metrics` answer. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

const NEEDS_ESCAPE = /[\\"\n]/
const quote = (v: string) =>
  NEEDS_ESCAPE.test(v) ? v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n") : v

/** `{k="v",…}`; built with a plain loop: it runs for every request the API counts. */
function labelText(labels: Labels): string {
  let text = ""
  for (const key in labels) {
    text += `${text === "" ? "{" : ","}${key}="${quote(labels[key] as string)}"`
  }
  return text === "" ? "" : `${text}}`
}

function header(name: string, help: string, type: string): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`]
}

/** A value per label set; counters only go up, gauges go both ways. */
class Series {
  protected readonly values = new Map<string, { labels: Labels; value: number }>()
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly type: "counter" | "gauge",
  ) {}

  protected add(labels: Labels, by: number): void {
    const key = labelText(labels)
    const current = this.values.get(key)
    if (current) current.value += by
    else this.values.set(key, { labels, value: by })
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0
  }

  render(): string {
    const lines = header(this.name, this.help, this.type)
    for (const { labels, value } of this.values.values()) {
      lines.push(`${this.name}${labelText(labels)} ${value}`)
    }
    return lines.join("\n")
  }
}

export class Counter extends Series {
  constructor(name: string, help: string) {
    super(name, help, "counter")
  }

  inc(labels: Labels = {}, by = 1): void {
    this.add(labels, by)
  }
}

export class Gauge extends Series {
  constructor(name: string, help: string) {
    super(name, help, "gauge")
  }

  inc(labels: Labels = {}, by = 1): void {
    this.add(labels, by)
  }

  dec(labels: Labels = {}, by = 1): void {
    this.add(labels, -by)
  }

  set(labels: Labels, value: number): void {
    this.add(labels, value - this.get(labels))
  }
}

interface HistogramSeries {
  labels: Labels
  counts: number[]
  sum: number
  count: number
}

export class Histogram {
  private readonly series = new Map<string, HistogramSeries>()
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    const key = labelText(labels)
    let s = this.series.get(key)
    if (!s) {
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }
      this.series.set(key, s)
    }
    s.sum += value
    s.count++
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] as number)) s.counts[i] = (s.counts[i] as number) + 1
    }
  }

  /** Observations so far, of one label set or (without labels) of all. */
  count(labels?: Labels): number {
    if (labels) return this.series.get(labelText(labels))?.count ?? 0
    let total = 0
    for (const s of this.series.values()) total += s.count
    return total
  }

  get observations(): number {
    return this.count()
  }

  render(): string {
    const lines = header(this.name, this.help, "histogram")
    for (const s of this.series.values()) {
      const withLe = (le: string) => labelText({ ...s.labels, le })
      this.buckets.forEach((bound, i) => {
        lines.push(`${this.name}_bucket${withLe(String(bound))} ${s.counts[i]}`)
      })
      lines.push(`${this.name}_bucket${withLe("+Inf")} ${s.count}`)
      lines.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`)
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`)
    }
    return lines.join("\n")
  }
}

/** Seconds buckets for request latencies and short waits (5 ms to 5 min). */
export const SECONDS_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
] as const

/**
 * Adds `render()` (the whole exposition, one family after another) to a set of metrics.
 *
 * @example
 * const metrics = metricRegistry({ hits: new Counter("app_hits_total", "Hits.") })
 * metrics.hits.inc({ route: "/" })
 * new Response(metrics.render(), { headers: { "Content-Type": METRICS_CONTENT_TYPE } })
 */
export function metricRegistry<T extends Record<string, { render(): string }>>(
  metrics: T,
): T & { render(): string } {
  return {
    ...metrics,
    render: () =>
      `${Object.values(metrics)
        .map((m) => m.render())
        .join("\n")}\n`,
  }
}
