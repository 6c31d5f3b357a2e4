import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { Subprocess } from "bun"
import { type EventRow, runEvents, waitForRun } from "../src/testing/deployments.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"
import { ROOT, runCli, startApiProcess } from "../src/testing/services.ts"

// End to end with the real pieces: `helmr deploy` of examples/ to the API, the runner builds the
// image graph with BuildKit at deploy time and runs review-pr in a Docker sandbox (building
// nothing then).

let h: RunnerHarness
let api: { url: string; proc: Subprocess }
let project: string
const builds = (events: EventRow[]) =>
  events.filter((e) => e.type === "build").map((e) => e.message ?? "")
/** The deploy-time build log of a deployment (its latest claim). */
const deployBuild = async (id: string) =>
  (
    await h.db.sql<{ message: string }[]>`
      select message from deployment_build_events where deployment_id = ${id}
        and attempt = (select build_attempts from deployments where id = ${id})
      order by id`
  ).map((e) => e.message)

async function deploy(): Promise<string> {
  const out = await runCli(["deploy", "--env", "dev", "--dir", project, "--promote", "--json"], {
    HELMR_API_URL: api.url,
    HELMR_API_KEY: h.apiKey,
  })
  const parsed = JSON.parse(out) as { id?: string; deployment?: { id: string } }
  const id = parsed.deployment?.id ?? parsed.id
  if (!id) throw new Error(`no deployment id in ${out}`)
  return id
}

/** Triggers through the API (the promoted deployment), waits for the run to finish. */
async function trigger(taskId: string, payload?: unknown) {
  const res = await fetch(`${api.url}/api/v1/tasks/${taskId}/trigger`, {
    method: "POST",
    headers: { authorization: `Bearer ${h.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(payload === undefined ? {} : { payload }),
  })
  const body = (await res.json()) as { id: string }
  expect(res.status).toBe(201)
  const done = await waitForRun(h.db.sql, body.id, ["succeeded", "failed", "crashed"], 240_000)
  return { done, events: await runEvents(h.db.sql, body.id) }
}

async function review(deploymentId: string, prNumber: number) {
  const result = await trigger("review-pr", { prNumber })
  expect(result.done.deploymentId).toBe(deploymentId)
  return result
}

beforeAll(async () => {
  h = await startRunnerHarness("i6e2e")
  api = await startApiProcess(h)
  // A copy of examples/ inside the repository, so it resolves @helmr/sdk and zod like the original.
  project = join(ROOT, ".helmr", `examples-${h.testLabel}`)
  mkdirSync(project, { recursive: true })
  cpSync(join(ROOT, "examples"), project, { recursive: true })
  await h.setSecret("OPENAI_API_KEY", "sk-e2e")
  await h.setSecret("API_TOKEN", "token-e2e")
}, 60_000)

afterAll(async () => {
  api?.proc.kill("SIGTERM")
  await api?.proc.exited
  if (project) rmSync(project, { recursive: true, force: true })
  await h?.stop()
}, 60_000)

describe("examples/ end to end", () => {
  let first: string

  test("review-pr builds, runs, logs and returns its output", async () => {
    first = await deploy()
    const { done, events } = await review(first, 42)
    expect(done.error).toBeNull()
    expect(done.status).toBe("succeeded")
    expect(done.output).toEqual({ ok: true })
    const logs = events.filter((e) => e.type === "log")
    expect(logs.map((e) => [e.level, e.message])).toContainEqual(["info", "reviewing 42"])
    expect(logs.find((e) => e.message === "reviewing 42")?.data).toEqual({ attempt: 1, args: [42] })
    expect((await deployBuild(first)).some((l) => l.startsWith("image review: built"))).toBe(true)
    expect(builds(events)).toEqual([])
  }, 240_000)

  test("a second deploy with no change is the same deployment and builds nothing", async () => {
    const again = await deploy()
    expect(again).toBe(first)
    const { done, events } = await review(again, 43)
    expect(done.status).toBe("succeeded")
    expect(builds(events)).toEqual([])
  }, 240_000)

  test("changing package.json rebuilds from the copy step", async () => {
    // Unique content: BuildKit's layer cache outlives test runs.
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({
        name: "helmr-examples",
        private: true,
        type: "module",
        main: "index.ts",
        description: `changed ${h.testLabel}`,
      }),
    )
    const changed = await deploy()
    expect(changed).not.toBe(first)
    const { done, events } = await review(changed, 44)
    expect(done.status).toBe("succeeded")
    expect(builds(events)).toEqual([])
    const lines = await deployBuild(changed)
    const step = (part: string) =>
      lines.find((l) => l.includes(part) && /: (cached|done in|failed)/.test(l)) ?? ""
    expect(step("WORKDIR /workspace")).toEndWith(": cached")
    expect(step("COPY [")).toMatch(/: done in/)
    expect(step('["bun","install"]')).toMatch(/: done in/)
  }, 240_000)

  test("the scheduled example, run now, gets its generated payload as Dates", async () => {
    const { done, events } = await trigger("nightly-maintenance")
    expect(done.error).toBeNull()
    const payload = done.payload as { timestamp: string }
    const logs = events.filter((e) => e.type === "log")
    expect(logs.map((e) => e.message)).toContain(`scheduled slot ${payload.timestamp}`)
  }, 240_000)
})
