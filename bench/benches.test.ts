import { describe, expect, test } from "bun:test"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/**
 * Proves each bench runs end to end at a tiny size and prints its figures (beside their
 * baselines, with the load average). Not a timed test: no figure is compared with a target.
 */

const root = new URL("..", import.meta.url).pathname

async function runBench(argv: string[], env: Record<string, string> = {}): Promise<string> {
  const proc = Bun.spawn(["bun", ...argv], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, CI: "true", ...env },
  })
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}\n${out}\n${err}`)
  return out
}

const LOAD = /load \d+\.\d+/

describe("benches at a tiny size", () => {
  test("bench/trigger prints the baseline, Helmr, their ratio and the load", async () => {
    const out = await runBench([
      "bench/trigger/main.ts",
      "--seconds",
      "1",
      "--warmup",
      "0",
      "--concurrency",
      "4",
    ])
    expect(out).toMatch(LOAD)
    expect(out).toMatch(/^baseline: bare Hono \+ postgres\.js +\d+ req\/s .* failed 0$/m)
    expect(out).toMatch(/^helmr: POST \/tasks\/review-pr\/trigger +\d+ req\/s .* failed 0$/m)
    expect(out).toMatch(/^helmr\/baseline throughput: \d+%/m)
    const check = /check: (\d+) runs in Postgres, (\d+) in the Valkey queue/.exec(out)
    expect(Number(check?.[1])).toBeGreaterThan(0)
    expect(check?.[2]).toBe(check?.[1])
  }, 120_000)

  test("bench/schedules fires, leases and audits both scenarios", async () => {
    const out = await runBench(["bench/schedules/main.ts"], {
      BURST: "100",
      EVERY_MINUTE: "20",
      MINUTES: "1",
    })
    expect(out).toMatch(LOAD)
    for (const label of ["staged", "not staged", "every minute"]) {
      const line = new RegExp(
        `to the runner lease \\(${label}\\): (\\d+)/(\\d+) leased; p50 [\\d.]+ ms +p90 [\\d.]+ ms +p99 [\\d.]+ ms`,
      ).exec(out)
      expect(line?.[1]).toBe(line?.[2])
      expect(Number(line?.[1])).toBeGreaterThan(0)
    }
    const oracles = [...out.matchAll(/duplicates (\d+), lost (\d+), unexpected (\d+)/g)]
    expect(oracles).toHaveLength(3)
    for (const o of oracles) expect([o[1], o[2], o[3]]).toEqual(["0", "0", "0"])
  }, 300_000)
  test("bench/peers prints figures for Helmr and every peer under both settings", async () => {
    const docs = join(mkdtempSync(join(tmpdir(), "peers-docs-")), "benchmarks.md")
    writeFileSync(docs, "# Benchmarks\n\n## bench/trigger\n\nkept\n\n## How to rerun\n\nkept too\n")
    const out = await runBench(["bench/peers/main.ts"], { JOBS: "50", LEAD_MS: "3000", DOCS: docs })
    expect(out).toMatch(LOAD)
    const systems = [
      "helmr, delayed runs",
      "helmr, schedules",
      "bullmq",
      "bullmq, fast poll",
      "pg-boss",
      "pg-boss, fast poll",
      "graphile-worker",
      "graphile-worker, fast poll",
    ]
    for (const system of systems) {
      const row = out.split("\n").find((l) => l.split("|")[1]?.trim() === system)
      // p50, p99, the last start (no "n/50 started": all 50 started) and a throughput.
      const cells = /\| ([\d,]+) ms +\| ([\d,]+) ms +\| ([\d,]+) ms +\| ([\d,]+)\/s +\|/.exec(
        row ?? "",
      )
      expect(cells, system).not.toBeNull()
      const [p50, p99, last] = [cells?.[1], cells?.[2], cells?.[3]].map((c) =>
        Number(c?.replaceAll(",", "")),
      )
      expect(p50).toBeLessThanOrEqual(p99 as number)
      expect(p99).toBeLessThanOrEqual(last as number)
      expect(Number(cells?.[4]?.replaceAll(",", ""))).toBeGreaterThan(0)
    }
    const written = readFileSync(docs, "utf8")
    expect(written).toContain("## bench/trigger\n\nkept\n\n## bench/peers\n")
    expect(written).toMatch(/\| helmr, delayed runs +\|/)
    expect(written).toMatch(/## How to rerun\n\nkept too\n$/)
  }, 300_000)
})
