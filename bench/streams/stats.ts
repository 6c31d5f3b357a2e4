import { loadavg } from "node:os"

/** Percentiles and the load line the stream benchmark prints. */

export interface Summary {
  count: number
  p50: number
  p99: number
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (p: number) =>
    sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))] ??
    Number.NaN
  return { count: sorted.length, p50: at(50), p99: at(99) }
}

export const ms = (value: number) => `${value.toFixed(1)} ms`

export function loadLine(): string {
  const [one, five] = loadavg()
  return `load ${one?.toFixed(2)} (1 min) ${five?.toFixed(2)} (5 min) on ${navigator.hardwareConcurrency} cores`
}
