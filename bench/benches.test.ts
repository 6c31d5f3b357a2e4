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

  test("bench/pickup prints push beside poll for the runner and the claim path, with the load", async () => {
    const out = await runBench(["bench/pickup/main.ts"], { RUNS: "2", IDLE: "5", BURST: "50" })
    expect(out).toMatch(LOAD)
    for (const label of [
      "runner, push:",
      "runner, poll:",
      "claim path, push, idle:",
      "claim path, poll, idle:",
    ]) {
      const line = new RegExp(`${label} +median +[\\d.]+ ms +p99 +[\\d.]+ ms .* n=(\\d+)`).exec(out)
      expect(Number(line?.[1])).toBeGreaterThan(0)
    }
    for (const mode of ["push", "poll"]) {
      const burst = new RegExp(
        `claim path, ${mode}, burst: +(\\d+)/(\\d+) claimed, last after [\\d.]+ ms +\\d+ runs/s`,
      ).exec(out)
      expect(burst?.[1]).toBe("50")
      expect(burst?.[2]).toBe("50")
    }
  }, 300_000)

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
  test("bench/schedules/drain leases every run, unlimited and in a limited queue, and prints the CPU per run", async () => {
    // A limit below the consumer's 100 slots: parked runs must be woken as runs end.
    const out = await runBench(["bench/schedules/drain.ts"], { DRAIN: "150", GATE_LIMIT: "20" })
    expect(out).toMatch(LOAD)
    expect(out).toContain("150 queued runs due at one instant, the consumer alone")
    expect(out).toContain(
      "150 queued runs due at one instant in one limited queue (concurrencyLimit 20), the consumer alone",
    )
    const lines = [
      ...out.matchAll(
        /to the runner lease: (\d+)\/(\d+) leased; p50 [\d.]+ ms +p99 [\d.]+ ms +last/g,
      ),
    ]
    expect(lines.map((l) => [l[1], l[2]])).toEqual([
      ["150", "150"],
      ["150", "150"],
    ])
    // The backends' CPU is n/a when Postgres runs elsewhere (another host or PID namespace).
    const cpu = [
      ...out.matchAll(/CPU per run: consumer (\d+) µs, its Postgres backends (\d+ µs|n\/a)/g),
    ]
    expect(cpu.length).toBe(2)
    for (const part of cpu) expect(Number(part[1])).toBeGreaterThan(0)
  }, 180_000)
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

  // The three below took 6-11 s each in this file and 15-18 s alone (load 40 on 2 cores), most
  // of it starting processes and sandboxes.
  const NUM = String.raw`(-?\d+(?:\.\d+)?)`

  test("bench/timers measures durable waits beside both baselines", async () => {
    const out = await runBench(["bench/timers/main.ts", "1", "2", "500"])
    expect(out).toMatch(/load average before \d+\.\d+/)
    expect(out).toMatch(/^bench\/timers: 1 sandboxes × 2 waits of 500 ms at once/m)
    const figures = (name: string) => {
      const line = new RegExp(
        `^${name} +median +${NUM} ms +p99 +${NUM} ms +max +${NUM} ms +\\(n=(\\d+)\\)$`,
        "m",
      ).exec(out)
      expect(line).not.toBeNull()
      return (line ?? []).slice(1).map(Number)
    }
    const [durable, durableP99, , durableN] = figures(
      "timers\\.wait → code after it \\(lateness\\)",
    )
    // A wait through Valkey, the dispatcher and the runner is never on the very millisecond.
    expect(durable).toBeGreaterThan(0)
    expect(durableP99).toBeGreaterThanOrEqual(durable ?? 0)
    expect(durableN).toBe(2)
    for (const baseline of [
      "baseline: Bun\\.sleep in the same sandbox",
      "baseline: dispatcher completes the waitpoint",
    ]) {
      const [median, , max, n] = figures(baseline)
      expect(median).toBeGreaterThanOrEqual(0)
      expect(max).toBeGreaterThanOrEqual(median ?? 0)
      expect(n).toBe(2)
    }
  }, 120_000)

  test("bench/streams delivers every chunk and prints throughput beside the INSERT baseline", async () => {
    const out = await runBench(["bench/streams/main.ts", "500", "1"])
    expect(out).toMatch(LOAD)
    const figures = (name: string) => {
      const line = new RegExp(
        `^${name} +median +${NUM} ms +p99 +${NUM} ms +throughput +(\\d+) chunks/s`,
        "m",
      ).exec(out)
      expect(line).not.toBeNull()
      return (line ?? []).slice(1).map(Number)
    }
    for (const name of [
      "baseline: raw INSERT ×500",
      "burst: append → SSE",
      "paced 5000/s: append → SSE",
    ]) {
      const [median, p99, perSecond] = figures(name)
      expect(median).toBeGreaterThan(0)
      expect(p99).toBeGreaterThanOrEqual(median ?? 0)
      expect(perSecond).toBeGreaterThan(0)
    }
  }, 120_000)

  test("bench/concurrency hands the slot on, one and two runners, never overlapping", async () => {
    const out = await runBench(["bench/concurrency/main.ts", "4"])
    expect(out).toMatch(LOAD)
    const baseline = new RegExp(
      `^baseline: idle pickup \\(trigger → starting\\) +median +${NUM} ms .* n=4$`,
      "m",
    ).exec(out)
    expect(Number(baseline?.[1])).toBeGreaterThan(0)
    for (const [name, ready] of [
      ["one runner", 1],
      ["two runner processes", 2],
    ] as const) {
      const handoff = new RegExp(
        `^gate handoff, ${name} \\(final → next starting\\) +median +${NUM} ms .* n=3$`,
        "m",
      ).exec(out)
      expect(handoff).not.toBeNull()
      const summary = new RegExp(
        `^  ${name}: ([\\d.]+) runs/s at limit 1, runners ready (\\d+), runners that took runs (\\d+), overlaps (\\d+)$`,
        "m",
      ).exec(out)
      expect(Number(summary?.[1])).toBeGreaterThan(0)
      expect(Number(summary?.[2])).toBe(ready)
      expect(Number(summary?.[3])).toBeGreaterThanOrEqual(1)
      expect(Number(summary?.[3])).toBeLessThanOrEqual(ready)
      expect(summary?.[4]).toBe("0")
    }
  }, 120_000)

  test("bench/start prints cold, warm and bare docker run with the load", async () => {
    const out = await runBench(["bench/start/main.ts", "2"])
    expect(out).toMatch(/load before \d+\.\d+ .* load after \d+\.\d+/)
    for (const label of [
      "cold: trigger → first task line",
      "warm: trigger → first task line",
      "baseline: docker run → first line",
      "docker run on the sandbox network → first line",
      "cold: claim → first task line",
      "warm: claim → first task line",
    ]) {
      const line = new RegExp(
        `^${label} +median +(\\d+) ms +p99 +(\\d+) ms .*\\(n=2\\)$`,
        "m",
      ).exec(out)
      expect(Number(line?.[1])).toBeGreaterThan(0)
      expect(Number(line?.[2])).toBeGreaterThanOrEqual(Number(line?.[1]))
    }
    expect(out).toMatch(/warm runs that found no warm sandbox: 0$/m)
  }, 300_000)
})
