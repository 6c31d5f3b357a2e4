import { readFileSync } from "node:fs"

/** Percentiles and the load line every benchmark prints: one home, imported as `@helmr/bench-stats`. */

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  return sorted[Math.max(0, index)] as number
}

export interface Summary {
  count: number
  p50: number
  p99: number
  max: number
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b)
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  }
}

export const ms = (value: number) => `${value.toFixed(1)} ms`

export function loadLine(): string {
  const [one, five] = readFileSync("/proc/loadavg", "utf8").split(" ")
  return `load ${one} (1 min) ${five} (5 min) on ${navigator.hardwareConcurrency} cores`
}
