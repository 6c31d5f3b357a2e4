import { join } from "node:path"
import { bundleProject, runEvents, waitForRun } from "@helmr/runner/testing/deployments"
import { BASE_IMAGE } from "@helmr/runner/testing/fixtures"
import { startRunnerHarness } from "@helmr/runner/testing/harness"

/**
 * bench/start: trigger → first line of task code, with the sandbox image already built, through
 * the whole path (Postgres insert + Valkey enqueue → lease → claim → container create/attach/start
 * → runtime → bundle import → run). Baseline, measured in the same run: a bare `docker run --rm`
 * of the same image printing the time from `bun -e`.
 *
 *   bun bench/start/main.ts [runs=30]
 */

const runs = Number(process.argv[2] ?? 30)

function stats(name: string, samples: number[], totalMs: number): string {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0
  const throughput = (samples.length / totalMs) * 1000
  return `${name.padEnd(34)} median ${at(0.5).toFixed(0).padStart(5)} ms   p99 ${at(0.99).toFixed(0).padStart(5)} ms   min ${(sorted[0] ?? 0).toFixed(0).padStart(5)} ms   throughput ${throughput.toFixed(2)}/s (sequential, n=${samples.length})`
}

const h = await startRunnerHarness("i6bench", {
  HELMR_RUNNER_LEASE_MS: "30000",
  HELMR_RUNNER_POLL_MS: "50",
  HELMR_RUNNER_GRACE_MS: "5000",
})
try {
  const deploymentId = await h.deploy({
    bundle: await bundleProject(join(import.meta.dir, "task")),
    manifest: {
      version: 1,
      entry: "index.js",
      tasks: [
        { id: "first-line", kind: "task", exportName: "first", sandbox: "sb", payloadSchema: null },
      ],
      sandboxes: [
        {
          name: "sb",
          image: "img",
          resources: { cpu: 1, memory: "256Mi", memoryBytes: 256 << 20 },
        },
      ],
      images: [{ name: "img", from: BASE_IMAGE, steps: [{ op: "workdir", path: "/workspace" }] }],
    },
  })

  const once = async () => {
    const t0 = Date.now()
    const run = await h.trigger({ deploymentId, taskId: "first-line" })
    const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 120_000)
    if (done.status !== "succeeded")
      throw new Error(`run ${run.id} ${done.status}: ${JSON.stringify(done.error)}`)
    const at = (done.output as { at: number }).at
    return { firstLine: at - t0, total: Date.now() - t0, runId: run.id }
  }

  // Warm-up: builds the image (not measured), and a few runs to settle.
  const warm = await once()
  const built = (await runEvents(h.db.sql, warm.runId)).filter((e) => e.type === "build").length
  for (let i = 0; i < 3; i++) await once()
  const [container] = await (h.runner.docker?.listImages({
    filters: { label: [`helmr.test=${h.testLabel}`, "helmr.kind=sandbox-image"] },
  }) ?? [])
  const image = container?.RepoTags?.[0]
  if (!image) throw new Error("sandbox image not found")

  const firstLines: number[] = []
  const totals: number[] = []
  let started = Date.now()
  for (let i = 0; i < runs; i++) {
    const r = await once()
    firstLines.push(r.firstLine)
    totals.push(r.total)
  }
  const helmrMs = Date.now() - started

  const bare: number[] = []
  started = Date.now()
  for (let i = 0; i < runs; i++) {
    const t0 = Date.now()
    const proc = Bun.spawn(
      [
        "docker",
        "run",
        "--rm",
        "--label",
        `helmr.test=${h.testLabel}`,
        "--entrypoint",
        "bun",
        image,
        "-e",
        "console.log(Date.now())",
      ],
      { stdout: "pipe", stderr: "inherit" },
    )
    const out = await new Response(proc.stdout).text()
    await proc.exited
    bare.push(Number(out.trim()) - t0)
  }
  const bareMs = Date.now() - started

  console.log(`bench/start: ${runs} runs, cached image ${image} (warm-up build events: ${built})`)
  console.log(stats("helmr trigger → first task line", firstLines, helmrMs))
  console.log(stats("helmr trigger → run succeeded", totals, helmrMs))
  console.log(stats("baseline: docker run → first line", bare, bareMs))
} finally {
  await h.stop()
}
