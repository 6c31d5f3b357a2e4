import type { BurstFigures, CronFigures, Row } from "./results.ts"

/** The one table bench/peers prints, and the section it writes into docs/benchmarks.md. */

const ms = (value: number) =>
  Number.isFinite(value) ? `${value.toLocaleString("en-US", { maximumFractionDigits: 0 })} ms` : "—"

function burstCells(b: BurstFigures | undefined): string[] {
  if (!b) return ["—", "—", "—", "—"]
  const count = b.count === b.expected ? "" : ` (${b.count}/${b.expected} started)`
  return [
    ms(b.p50),
    ms(b.p99),
    `${ms(b.last)}${count}`,
    `${b.perSecond.toLocaleString("en-US", { maximumFractionDigits: 0 })}/s`,
  ]
}

function cronCells(c: CronFigures | undefined): string[] {
  if (!c) return ["—", "—", "—", "—"]
  return [ms(c.p50), ms(c.p99), ms(c.max), `${c.count}/${c.expected}`]
}

export function table(
  rows: readonly Row[],
  sizes: { jobs: number; schedules: number; minutes: number },
): string {
  const header = [
    "system",
    "version",
    "settings",
    `${sizes.jobs} due at once: p50`,
    "p99",
    "last",
    "throughput",
    `${sizes.schedules} every-minute × ${sizes.minutes} min: p50`,
    "p99",
    "max",
    "fires",
  ]
  const lines = rows.map((r) => [
    r.system,
    r.version,
    r.settings,
    ...burstCells(r.burst),
    ...cronCells(r.cron),
  ])
  return markdownTable(header, lines)
}

/** A Markdown table with its columns padded, as the repository's formatter writes them. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]) {
  const widths = header.map((h, i) =>
    Math.max(3, h.length, ...rows.map((r) => (r[i] ?? "").length)),
  )
  const row = (cells: readonly string[]) =>
    `| ${widths.map((w, i) => (cells[i] ?? "").padEnd(w)).join(" | ")} |`
  return [row(header), row(widths.map((w) => "-".repeat(w))), ...rows.map(row)].join("\n")
}

export const SECTION = "## bench/peers"

/**
 * Replaces the `## bench/peers` section of `doc` (up to the next `## ` heading) with `section`,
 * or puts it before `## How to rerun` (else at the end) when there is none yet.
 */
export function withSection(doc: string, section: string): string {
  const body = `${section.trimEnd()}\n\n`
  const start = doc.indexOf(`\n${SECTION}`)
  if (start >= 0) {
    const next = doc.indexOf("\n## ", start + 1)
    if (next < 0) return `${doc.slice(0, start + 1)}${section.trimEnd()}\n`
    return `${doc.slice(0, start + 1)}${body}${doc.slice(next + 1)}`
  }
  const rerun = doc.indexOf("\n## How to rerun")
  if (rerun >= 0) return `${doc.slice(0, rerun + 1)}${body}${doc.slice(rerun + 1)}`
  return `${doc.trimEnd()}\n\n${section.trimEnd()}\n`
}
