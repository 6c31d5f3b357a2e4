import { cpus, loadavg } from "node:os"
import { join } from "node:path"
import { bundleProject, runEvents, waitForRun } from "@helmr/runner/testing/deployments"
import { BASE_IMAGE } from "@helmr/runner/testing/fixtures"
import { startRunnerHarness } from "@helmr/runner/testing/harness"

/**
 * bench/start: trigger → first line of task code, with the sandbox image already built, through
 * the whole path (Postgres insert + Valkey enqueue → lease → claim → sandbox → runtime → bundle
 * import → run), twice: cold (a container created and started for the run) and warm (a pooled
 * container, `sandbox(…).warm(n)`, assigned to the run). Baseline, measured in the same run: a
 * bare `docker run --rm` of the same image printing the time from `bun -e`; and, to show what the
 * sandbox network itself costs, the same `docker run` on Helmr's sandbox network (a user-defined
 * bridge: Docker sets up its embedded DNS in every container's namespace at start). Rounds
 * interleave them all, so a change of the machine's load falls on each.
 *
 * "claim → first line" leaves out the queue pickup: from the run's `starting` transition (Postgres
 * clock, same machine) to the first line.
 *
 *   bun bench/start/main.ts [runs=30]     (HELMR_RUNNER_PICKUP=push|poll, default push;
 *                                          POLL_MS=50: the interval when polling)
 */

const runs = Number(process.argv[2] ?? 30)
const pollMs = process.env.POLL_MS ?? "50"

function stats(name: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0
  return `${name.padEnd(48)} median ${at(0.5).toFixed(0).padStart(5)} ms   p99 ${at(0.99).toFixed(0).padStart(5)} ms   min ${(sorted[0] ?? 0).toFixed(0).padStart(5)} ms   (n=${samples.length})`
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")

const h = await startRunnerHarness("i6bench", {
  HELMR_RUNNER_LEASE_MS: "30000",
  HELMR_RUNNER_POLL_MS: pollMs,
  HELMR_RUNNER_PICKUP: process.env.HELMR_RUNNER_PICKUP ?? "push",
  HELMR_RUNNER_GRACE_MS: "5000",
  HELMR_RUNNER_WARM_MAX: "2",
  HELMR_RUNNER_WARM_REFRESH_MS: "200",
})
try {
  const sandbox = (name: string, warm: number) => ({
    name,
    image: "img",
    resources: { cpu: 1, memory: "256Mi", memoryBytes: 256 << 20 },
    ...(warm ? { warm } : {}),
  })
  const task = (id: string, sb: string) => ({
    id,
    kind: "task",
    exportName: "first",
    sandbox: sb,
    payloadSchema: null,
  })
  const deploymentId = await h.deploy({
    bundle: await bundleProject(join(import.meta.dir, "task")),
    manifest: {
      version: 1,
      entry: "index.js",
      tasks: [task("first-line", "cold"), task("first-line-warm", "warm")],
      sandboxes: [sandbox("cold", 0), sandbox("warm", 1)],
      images: [{ name: "img", from: BASE_IMAGE, steps: [{ op: "workdir", path: "/workspace" }] }],
    },
    current: true,
  })
  const pool = h.runner.deps.warm
  if (!pool) throw new Error("the runner keeps no warm sandboxes")

  const warmReady = async () => {
    const deadline = Date.now() + 60_000
    while ((pool.sizes()[`${deploymentId}/warm`] ?? 0) < 1) {
      if (Date.now() > deadline) throw new Error("no warm sandbox became ready")
      await Bun.sleep(20)
    }
  }

  const once = async (taskId: string) => {
    const t0 = Date.now()
    const run = await h.trigger({ deploymentId, taskId })
    const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 120_000)
    if (done.status !== "succeeded")
      throw new Error(`run ${run.id} ${done.status}: ${JSON.stringify(done.error)}`)
    const at = (done.output as { at: number }).at
    const [starting] = await h.db.sql<{ at: Date }[]>`
      select created_at as at from run_events
      where run_id = ${run.id} and type = 'transition' and data->>'to' = 'starting'
      order by id limit 1`
    const warm = (await runEvents(h.db.sql, run.id)).some(
      (e) => e.type === "transition" && (e.data as { warm?: boolean }).warm === true,
    )
    return { firstLine: at - t0, fromClaim: at - (starting?.at.getTime() ?? t0), warm }
  }

  const image = async () => {
    const [found] = await (h.runner.docker?.listImages({
      filters: { label: [`helmr.test=${h.testLabel}`, "helmr.kind=sandbox-image"] },
    }) ?? [])
    const tag = found?.RepoTags?.[0]
    if (!tag) throw new Error("sandbox image not found")
    return tag
  }

  const bare = async (tag: string, network?: string) => {
    const t0 = Date.now()
    const proc = Bun.spawn(
      [
        "docker",
        "run",
        "--rm",
        "--label",
        `helmr.test=${h.testLabel}`,
        ...(network ? ["--network", network] : []),
        "--entrypoint",
        "bun",
        tag,
        "-e",
        "console.log(Date.now())",
      ],
      { stdout: "pipe", stderr: "inherit" },
    )
    const out = await new Response(proc.stdout).text()
    await proc.exited
    return Number(out.trim()) - t0
  }

  // Warm-up: builds the image (not measured), and a few runs of each kind to settle.
  await once("first-line")
  const tag = await image()
  for (let i = 0; i < 2; i++) {
    await once("first-line")
    await warmReady()
    await once("first-line-warm")
    await bare(tag)
  }

  const loadBefore = load()
  const cold = { firstLine: [] as number[], fromClaim: [] as number[] }
  const warm = { firstLine: [] as number[], fromClaim: [] as number[] }
  const docker: number[] = []
  const onNetwork: number[] = []
  const network = h.config.HELMR_SANDBOX_NETWORK
  let missedWarm = 0
  for (let i = 0; i < runs; i++) {
    const c = await once("first-line")
    cold.firstLine.push(c.firstLine)
    cold.fromClaim.push(c.fromClaim)
    await warmReady()
    const w = await once("first-line-warm")
    if (!w.warm) missedWarm += 1
    warm.firstLine.push(w.firstLine)
    warm.fromClaim.push(w.fromClaim)
    docker.push(await bare(tag))
    onNetwork.push(await bare(tag, network))
  }

  console.log(
    `bench/start: ${runs} rounds (cold, warm, docker run, docker run on the sandbox network, interleaved), cached image ${tag}; runner pickup ${h.config.HELMR_RUNNER_PICKUP} (poll ${pollMs} ms when polling); ${cpus().length} cores, load before ${loadBefore}, load after ${load()}`,
  )
  console.log(stats("cold: trigger → first task line", cold.firstLine))
  console.log(stats("warm: trigger → first task line", warm.firstLine))
  console.log(stats("baseline: docker run → first line", docker))
  console.log(stats("docker run on the sandbox network → first line", onNetwork))
  console.log(stats("cold: claim → first task line", cold.fromClaim))
  console.log(stats("warm: claim → first task line", warm.fromClaim))
  const median = (xs: number[]) =>
    [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? 0
  console.log(
    `cold − docker run (medians): ${(median(cold.firstLine) - median(docker)).toFixed(0)} ms; warm runs that found no warm sandbox: ${missedWarm}`,
  )
} finally {
  await h.stop()
}
