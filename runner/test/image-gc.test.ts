import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { collectImages } from "../src/build/image-gc.ts"
import { runEvents, waitForRun } from "../src/testing/deployments.ts"
import { basicBundle, basicManifest } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"

// Disk stays bounded: after 10 deployments only the images of the retained ones remain (current,
// the newest 3, any with an unfinished run), and a run of each retained deployment starts without
// building anything.

let h: RunnerHarness
beforeAll(async () => {
  h = await startRunnerHarness("imagegc", {
    HELMR_IMAGE_RETAIN_DEPLOYMENTS: "3",
    HELMR_IMAGE_GC_INTERVAL_MS: "0",
    // Far above what the tests build: this machine's build cache is not the test's to trim.
    HELMR_BUILD_CACHE_MAX: "1000Gi",
  })
}, 60_000)
afterAll(() => h?.stop(), 60_000)

async function imageTags(): Promise<string[]> {
  const docker = h.runner.docker
  if (!docker) throw new Error("the test needs the Docker driver")
  const images = await docker.listImages({ filters: { label: [`helmr.test=${h.testLabel}`] } })
  return images.flatMap((i) => i.RepoTags ?? []).sort()
}

async function runOf(deploymentId: string) {
  const run = await h.trigger({ deploymentId, taskId: "hello", payload: { name: "gc" } })
  const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 180_000)
  expect({ id: run.id, status: done.status }).toEqual({ id: run.id, status: "succeeded" })
  const events = await runEvents(h.db.sql, run.id)
  return events.filter((e) => e.type === "build").map((e) => e.message ?? "")
}

describe("image collection", () => {
  test("10 deployments: only the retained images remain; their runs build nothing", async () => {
    const bundle = await basicBundle()
    const deployments: string[] = []
    for (let version = 1; version <= 10; version++) {
      // Each version has its own bundle, so its own code layer on the one shared graph image.
      const code = new TextEncoder().encode(`\n// version ${version}\n`)
      const id = await h.deploy({
        bundle: new Uint8Array([...bundle, ...code]),
        manifest: basicManifest(),
      })
      deployments.push(id)
      const before = new Set(await imageTags())
      const builds = await runOf(id)
      expect(builds.some((m) => m.includes("+ bundle: building"))).toBe(true)
      const added = (await imageTags()).filter((t) => !before.has(t))
      expect(added).toHaveLength(version === 1 ? 2 : 1)
    }
    const all = await imageTags()
    expect(all).toHaveLength(11) // one graph image, ten code layers
    // Version 2 is current in the environment (a rollback, say): it stays too.
    await h.db.sql`update environments set current_deployment_id = ${deployments[1]!}
      where id = ${h.environmentId}`

    // Version 4 has a run delayed by an hour: its image must still be there when the run starts.
    await h.trigger({
      deploymentId: deployments[3]!,
      taskId: "hello",
      payload: { name: "later" },
      availableAt: new Date(Date.now() + 3_600_000),
    })

    const result = await collectImages(h.runner.imageGc!)
    const remaining = await imageTags()
    expect(remaining).toHaveLength(6) // graph image + versions 2, 4, 8, 9, 10
    expect(result.removed).toHaveLength(5) // versions 1, 3, 5, 6, 7
    expect(result.busy).toEqual([])
    for (const tag of result.removed) expect(remaining).not.toContain(tag)

    for (const index of [1, 3, 7, 8, 9]) {
      const builds = await runOf(deployments[index]!)
      expect(builds.filter((m) => m.includes("building"))).toEqual([])
    }
    // Nothing more to collect; a removed version still runs, rebuilding its code layer only.
    expect((await collectImages(h.runner.imageGc!)).removed).toEqual([])
    const rebuilt = await runOf(deployments[0]!)
    expect(rebuilt.filter((m) => m.includes("building"))).toHaveLength(1)
  }, 600_000)
})
