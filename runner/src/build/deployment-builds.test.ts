import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { randomBytes } from "node:crypto"
import { rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { bootstrapProject } from "@helmr/migrations/bootstrap"
import { createTestDatabase, type TestDatabase } from "@helmr/migrations/testing"
import pino from "pino"
import { createLocalDriver } from "../sandbox/local-driver.ts"
import { insertDeployment } from "../testing/deployments.ts"
import { basicManifest } from "../testing/fixtures.ts"
import {
  claimDeploymentBuild,
  extendBuildLease,
  finishDeploymentBuild,
  MAX_BUILD_ATTEMPTS,
} from "./deployment-build-claim.ts"
import { type BuildDeps, buildDeployment, startDeploymentBuilds } from "./deployment-builds.ts"
import { bundleRuntime, type RuntimeBundle } from "./runtime-bundle.ts"

/**
 * Who builds a deployment, against real Postgres: one claim per deployment among several
 * runners, a lapsed lease taken over, a stale owner unable to write, a cap on claims. Builds use
 * the local driver (writes the code directory); Docker builds are in api/test/deploy-builds-e2e.
 */
let db: TestDatabase
let projectId = ""
let environmentId = ""
const root = join(tmpdir(), `helmr-builds-${randomBytes(4).toString("hex")}`)
let runtime: Promise<RuntimeBundle> | null = null
const driver = createLocalDriver({
  root,
  runtime: () => {
    runtime ??= bundleRuntime()
    return runtime
  },
})
const deps = (runnerId: string, leaseMs = 5_000): BuildDeps => ({
  sql: db.sql,
  driver,
  logger: pino({ level: "silent" }),
  runnerId,
  leaseMs,
})

beforeAll(async () => {
  db = await createTestDatabase("h12claim")
  const boot = await bootstrapProject(db.sql, { slug: "claims" })
  projectId = boot.projectId
  environmentId = boot.environments[0]?.id ?? ""
})
afterAll(async () => {
  await db.drop()
  await rm(root, { recursive: true, force: true })
})

let salt = 0
const pending = () =>
  insertDeployment(db.sql, {
    projectId,
    environmentId,
    bundle: new TextEncoder().encode(`export {} // ${salt++}`),
    manifest: basicManifest(),
    build: "pending",
  })

const state = async (id: string) => {
  const [row] = await db.sql<{ buildStatus: string; buildAttempts: number; buildError: unknown }[]>`
    select build_status, build_attempts, build_error from deployments where id = ${id}`
  return row
}

describe("claims", () => {
  test("two runners claiming at once: exactly one gets the build", async () => {
    const id = await pending()
    const claims = await Promise.all(
      ["r1", "r2", "r3"].map((r) => claimDeploymentBuild(db.sql, r, 5_000)),
    )
    const won = claims.filter((c) => c !== null)
    expect(won).toHaveLength(1)
    expect(won[0]?.deployment.id).toBe(id)
    expect(won[0]?.attempt).toBe(1)
    expect(await claimDeploymentBuild(db.sql, "r4", 5_000)).toBeNull()
    expect(
      await finishDeploymentBuild(db.sql, won[0]?.deployment.buildRunnerId ?? "", won[0]!, null),
    ).toBe(true)
    expect(await state(id)).toMatchObject({ buildStatus: "ready", buildAttempts: 1 })
  })

  test("a lapsed lease is taken over; the old owner can neither renew nor finish", async () => {
    const id = await pending()
    const first = await claimDeploymentBuild(db.sql, "dead", 20)
    expect(first?.deployment.id).toBe(id)
    expect(await claimDeploymentBuild(db.sql, "alive", 5_000)).toBeNull()
    await Bun.sleep(60)
    const second = await claimDeploymentBuild(db.sql, "alive", 5_000)
    expect(second).toMatchObject({ deployment: { id }, attempt: 2 })
    expect(await extendBuildLease(db.sql, "dead", first!, 5_000)).toBe(false)
    expect(await finishDeploymentBuild(db.sql, "dead", first!, { message: "late" })).toBe(false)
    expect(await extendBuildLease(db.sql, "alive", second!, 5_000)).toBe(true)
    expect(await finishDeploymentBuild(db.sql, "alive", second!, null)).toBe(true)
    expect(await state(id)).toMatchObject({ buildStatus: "ready", buildError: null })
  })
})

describe("buildDeployment", () => {
  test("builds every sandbox its tasks use and records the log and `ready`", async () => {
    const id = await pending()
    const claim = await claimDeploymentBuild(db.sql, "builder", 5_000)
    expect(claim?.deployment.id).toBe(id)
    await buildDeployment(deps("builder"), claim!)
    expect(await state(id)).toMatchObject({ buildStatus: "ready", buildAttempts: 1 })
    const events = await db.sql<{ message: string; attempt: number }[]>`
      select message, attempt from deployment_build_events where deployment_id = ${id} order by id`
    expect(events.map((e) => e.message)).toEqual([
      "sandbox sb: image img",
      expect.stringMatching(/^build ready in \d+\.\ds$/),
    ])
    expect(events.every((e) => e.attempt === 1)).toBe(true)
  })

  test(`a build claimed more than ${MAX_BUILD_ATTEMPTS} times fails instead of building again`, async () => {
    const id = await pending()
    await db.sql`update deployments set build_attempts = ${MAX_BUILD_ATTEMPTS} where id = ${id}`
    const claim = await claimDeploymentBuild(db.sql, "late", 5_000)
    await buildDeployment(deps("late"), claim!)
    expect(await state(id)).toMatchObject({
      buildStatus: "failed",
      buildError: { message: expect.stringContaining("each runner stopped before it finished") },
    })
  })

  test("a manifest whose task names a missing sandbox fails with that reason", async () => {
    const manifest = basicManifest()
    const id = await insertDeployment(db.sql, {
      projectId,
      environmentId,
      bundle: new TextEncoder().encode("export {} // ghost sandbox"),
      manifest: { ...manifest, tasks: [{ ...manifest.tasks[0], sandbox: "nowhere" }] },
      build: "pending",
    })
    const claim = await claimDeploymentBuild(db.sql, "b", 5_000)
    await buildDeployment(deps("b"), claim!)
    expect(await state(id)).toMatchObject({
      buildStatus: "failed",
      buildError: { message: "sandbox nowhere of task hello is missing" },
    })
  })
})

test("three build loops over six deployments build each exactly once", async () => {
  const ids: string[] = []
  for (let i = 0; i < 6; i++) ids.push(await pending())
  const controller = new AbortController()
  const loops = ["a", "b", "c"].map((r) =>
    startDeploymentBuilds(deps(`loop-${r}`), { pollMs: 20 }, controller.signal),
  )
  const deadline = Date.now() + 30_000
  for (;;) {
    const [left] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from deployments where id = any(${ids}) and build_status <> 'ready'`
    if (left?.n === 0) break
    if (Date.now() > deadline) throw new Error(`${left?.n} builds left`)
    await Bun.sleep(50)
  }
  controller.abort()
  await Promise.all(loops)
  const rows = await db.sql<{ id: string; attempts: number; starts: number }[]>`
    select d.id, d.build_attempts as attempts,
      (select count(*)::int from deployment_build_events e
        where e.deployment_id = d.id and e.message like 'sandbox %') as starts
    from deployments d where d.id = any(${ids})`
  expect(rows).toHaveLength(6)
  for (const row of rows) expect(row).toMatchObject({ attempts: 1, starts: 1 })
}, 60_000)
