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
