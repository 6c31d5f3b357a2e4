import { describe, expect, test } from "bun:test"

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
})
