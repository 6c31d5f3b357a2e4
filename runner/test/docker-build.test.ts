import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import type Docker from "dockerode"
import { buildImage } from "../src/build/build-image.ts"
import { cacheMountId } from "../src/build/dockerfile.ts"
import { createTar } from "../src/build/tar.ts"
import {
  bundleProject,
  digestOf,
  type EventRow,
  runEvents,
  waitForRun,
} from "../src/testing/deployments.ts"
import { BASE_IMAGE } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"

// Image graphs built by BuildKit through the Engine API: the review-pr example, no rebuild when
// nothing changed, a rebuild from the changed step, the bun cache mount reused, build failures.

const enc = new TextEncoder()
let h: RunnerHarness
let docker: Docker
let bundle: Uint8Array

function packageJson(description: string): Uint8Array {
  return enc.encode(
    JSON.stringify({ name: "review", description, dependencies: { "is-number": "7.0.0" } }),
  )
}

function reviewManifest(pkg: Uint8Array, extraSteps: unknown[] = []) {
  return {
    version: 1,
    entry: "index.js",
    tasks: [
      {
        id: "review-pr",
        kind: "task",
        exportName: "reviewPr",
        sandbox: "review",
        maxDuration: 900,
        secrets: [{ name: "OPENAI_API_KEY", env: "OPENAI_API_KEY" }],
        payloadSchema: { type: "object" },
      },
    ],
    sandboxes: [
      {
        name: "review",
        image: "review",
        workspace: "/workspace",
        resources: { cpu: 2, memory: "4Gi", memoryBytes: 4 * 1024 ** 3 },
      },
    ],
    images: [
      {
        name: "review",
        from: BASE_IMAGE,
        steps: [
          { op: "workdir", path: "/workspace" },
          // Bun trusts the machine's CA bundle (this machine reaches npm through a TLS proxy).
          { op: "env", name: "NODE_EXTRA_CA_CERTS", value: "/etc/ssl/certs/ca-certificates.crt" },
          {
            op: "copy",
            dest: "/workspace/package.json",
            source: { kind: "file", path: "package.json" },
            files: [{ path: "package.json", digest: digestOf(pkg) }],
          },
          {
            op: "run",
            argv: ["bun", "install"],
            cache: [{ mountPath: "/root/.bun/install/cache", cache: "review-bun" }],
          },
          ...extraSteps,
        ],
      },
    ],
  }
}

const builds = (events: EventRow[]) =>
  events.filter((e) => e.type === "build").map((e) => e.message ?? "")

async function runReview(deploymentId: string) {
  const run = await h.trigger({ deploymentId, taskId: "review-pr", payload: { prNumber: 7 } })
  const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 240_000)
  return { done, events: await runEvents(h.db.sql, run.id) }
}

beforeAll(async () => {
  h = await startRunnerHarness("i6build")
  docker = h.runner.docker as Docker
  bundle = await bundleProject(join(import.meta.dir, "../src/testing/fixtures/review"))
  await h.setSecret("OPENAI_API_KEY", "sk-test")
}, 60_000)
afterAll(() => h?.stop(), 60_000)

describe("image graphs", () => {
  let first: string

  test("review-pr builds, runs, logs and returns its output", async () => {
    const pkg = packageJson("v1")
    first = await h.deploy({
      bundle,
      manifest: reviewManifest(pkg),
      files: { "package.json": pkg },
    })
    const { done, events } = await runReview(first)
    expect(done.error).toBeNull()
    expect(done.output).toEqual({ ok: true, isNumber: "7.0.0", hasKey: true })
    const lines = builds(events)
    expect(lines.some((l) => l.startsWith("image review: building"))).toBe(true)
    expect(
      lines.some((l) => l.includes("RUN --mount=type=cache") && l.includes('["bun","install"]')),
    ).toBe(true)
    expect(lines.some((l) => l.startsWith("image review: built"))).toBe(true)
    expect(events.filter((e) => e.type === "log").map((e) => e.message)).toContain("reviewing 7")
  }, 240_000)

  test("a second deploy with no change to the graph does not rebuild it", async () => {
    // Same graph, another bundle: only the thin code layer is new.
    const pkg = packageJson("v1")
    const other = await bundleProject(join(import.meta.dir, "../src/testing/fixtures/review"))
    const again = await h.deploy({
      bundle: new Uint8Array([...other, ...enc.encode("\n// v2\n")]),
      manifest: reviewManifest(pkg),
      files: { "package.json": pkg },
    })
    expect(again).not.toBe(first)
    const { done, events } = await runReview(again)
    expect(done.status).toBe("succeeded")
    const lines = builds(events)
    // The graph image exists (an existing image says nothing): only the code layer is built.
    expect(lines.filter((l) => l.startsWith("image review:"))).toEqual([])
    expect(lines.some((l) => l.startsWith("image review + bundle: built"))).toBe(true)
    expect(lines.some((l) => l.includes("bun install"))).toBe(false)
  }, 240_000)

  test("changing package.json rebuilds from the copy step, and the bun cache mount is reused", async () => {
    // Unique content: BuildKit's layer cache outlives test runs.
    const pkg = packageJson(`v2 ${h.testLabel}`)
    const changed = await h.deploy({
      bundle,
      manifest: reviewManifest(pkg),
      files: { "package.json": pkg },
    })
    const { done, events } = await runReview(changed)
    expect(done.status).toBe("succeeded")
    const lines = builds(events)
    const step = (prefix: string) => lines.find((l) => l.includes(prefix) && l.includes(": ")) ?? ""
    expect(step("WORKDIR /workspace")).toEndWith(": cached")
    expect(step("COPY [")).toMatch(/: done in/)
    expect(step('["bun","install"]')).toMatch(/: done in/)

    // The cache holds what the first build downloaded, under this project's id only.
    const listCache = async (projectId: string) => {
      const id = cacheMountId(projectId, "review-bun")
      const dockerfile = `FROM ${BASE_IMAGE}\nRUN --mount=type=cache,id=${id},target=/c,sharing=locked ["sh","-c","echo probe-${Date.now()}; ls /c"]\n`
      const output: string[] = []
      await buildImage(
        docker,
        {
          tag: `${h.config.HELMR_IMAGE_REPO}:cache-probe`,
          context: createTar([{ path: "Dockerfile", content: enc.encode(dockerfile) }]),
          labels: { "helmr.test": h.testLabel, "helmr.owner": h.config.HELMR_RUNNER_ID },
          image: "cache-probe",
        },
        (e) => {
          if (e.data?.output) output.push(e.message)
        },
      )
      return output.join("\n")
    }
    expect(await listCache(h.projectId)).toContain("is-number")
    expect(await listCache("proj_someoneelse")).not.toContain("is-number")
  }, 240_000)

  test("a failed build fails the run with the step and its output", async () => {
    const pkg = packageJson("v1")
    const broken = await h.deploy({
      bundle,
      manifest: reviewManifest(pkg, [
        { op: "run", argv: ["sh", "-c", "echo boom-output; exit 3"] },
      ]),
      files: { "package.json": pkg },
    })
    const { done } = await runReview(broken)
    expect(done.status).toBe("failed")
    const error = done.error as {
      name: string
      message: string
      data: { step: string; output: string }
    }
    expect(error.name).toBe("ImageBuildError")
    expect(error.message).toContain("echo boom-output; exit 3")
    expect(error.data.step).toContain('RUN ["sh","-c","echo boom-output; exit 3"]')
    expect(error.data.output).toContain("boom-output")
  }, 240_000)

  test("the BuildKit session stays alive through a long build (health checks answered)", async () => {
    const dockerfile = `FROM ${BASE_IMAGE}\nRUN ["sh","-c","echo ${h.testLabel}; sleep 6"]\n`
    const result = await buildImage(
      docker,
      {
        tag: `${h.config.HELMR_IMAGE_REPO}:long`,
        context: createTar([{ path: "Dockerfile", content: enc.encode(dockerfile) }]),
        labels: { "helmr.test": h.testLabel, "helmr.owner": h.config.HELMR_RUNNER_ID },
        image: "long",
      },
      () => {},
    )
    // BuildKit checks the session about every second and drops one that does not answer.
    expect(result.sessionHealthChecks).toBeGreaterThanOrEqual(3)
  }, 120_000)

  test("concurrent runs needing one new image share a single build", async () => {
    const pkg = packageJson("v1")
    const shared = await h.deploy({
      bundle,
      manifest: reviewManifest(pkg, [
        { op: "run", argv: ["sh", "-c", `sleep 2; echo shared-${Date.now()}`] },
      ]),
      files: { "package.json": pkg },
    })
    const [a, b] = await Promise.all([runReview(shared), runReview(shared)])
    expect(a.done.status).toBe("succeeded")
    expect(b.done.status).toBe("succeeded")
    const all = [...builds(a.events), ...builds(b.events)]
    // One run built it; the other joined and saw the same build finish.
    expect(all.filter((l) => l.startsWith("image review: building"))).toHaveLength(1)
    expect(all.filter((l) => l.startsWith("image review: waiting for another run"))).toHaveLength(1)
    expect(all.filter((l) => l.startsWith("image review: built"))).toHaveLength(2)
  }, 240_000)
})
