import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseConfig } from "@helmr/migrations/config"
import { TEST_VALKEY_URL } from "@helmr/migrations/testing"
import { putScheduleEntry } from "@helmr/migrations/valkey"
import pino from "pino"
import { startTestApi, type TestApi } from "../../api/src/testing.ts"
import { composeRunner, type Runner } from "../../runner/src/compose.ts"
import { RunnerConfig } from "../../runner/src/config.ts"
import { type RunLoop, startRunLoop } from "../../runner/src/run/run-loop.ts"
import { bundleProject, insertDeployment } from "../../runner/src/testing/deployments.ts"
import { Fleet, fleetEnv } from "./fleet.ts"

/**
 * The whole path of a schedule for end-to-end tests: the real API app (in process, own database
 * and key prefix), real dispatcher processes, and a real runner loop with the `local` sandbox
 * driver (task code in child processes: no Docker needed), all on that one database and prefix.
 */
export interface FlowStack {
  api: TestApi
  fleet: Fleet
  runner: Runner
  loop: RunLoop
  /** A directory the `holder` task's hold files live in. */
  holdDir: string
  request(method: string, path: string, body?: unknown): Promise<Response>
  /** Moves an instance's cursor to `slot` as after downtime (row and Valkey entry). */
  seedCursor(instanceId: string, slot: Date): Promise<void>
  stop(): Promise<void>
}

const FIXTURE = join(import.meta.dir, "fixtures", "flow")

export async function startFlowStack(label: string): Promise<FlowStack> {
  const api = await startTestApi(label)
  const env = api.project.environments.find((e) => e.slug === "dev")
  if (!env) throw new Error("no dev environment")
  const rand = randomBytes(4).toString("hex")
  const holdDir = mkdtempSync(join(tmpdir(), `h11a-hold-${rand}-`))
  const config = parseConfig(RunnerConfig, {
    HELMR_DATABASE_URL: api.db.url,
    HELMR_VALKEY_URL: TEST_VALKEY_URL,
    HELMR_KEY_PREFIX: api.valkey.prefix,
    HELMR_ENCRYPTION_KEY: randomBytes(32).toString("hex"),
    HELMR_RUNNER_ID: `h11a-runner-${rand}`,
    HELMR_SANDBOX_DRIVER: "local",
    HELMR_RUNNER_ROOT: join(holdDir, "runner"),
    HELMR_RUNNER_LEASE_MS: "3000",
    HELMR_RUNNER_GRACE_MS: "1500",
    HELMR_RUNNER_POLL_MS: "50",
    HELMR_RUNNER_SWEEP_MS: "1000",
    HELMR_RUNNER_CONCURRENCY: "8",
  })
  const runner = await composeRunner(config, {
    sql: api.db.sql,
    valkey: api.valkey.valkey,
    logger: pino({ level: process.env.HELMR_TEST_LOG ?? "silent" }),
  })
  const controller = new AbortController()
  const loop = startRunLoop(
    runner.deps,
    { concurrency: 8, pollMs: 50, sweepMs: 1_000, drainMs: 1_000 },
    controller.signal,
  )
  const fleet = new Fleet(
    fleetEnv(api.db.url, TEST_VALKEY_URL, api.valkey.prefix, { HELMR_HELD_POLL_MS: "100" }),
  )
  const bundle = await bundleProject(FIXTURE)
  const scheduled = (id: string) => ({
    id,
    kind: "scheduled",
    exportName: id,
    sandbox: "sb",
    secrets: [],
    payloadSchema: null,
  })
  const deploymentId = await insertDeployment(api.db.sql, {
    projectId: api.project.projectId,
    environmentId: env.id,
    bundle,
    manifest: {
      version: 1,
      entry: "index.js",
      tasks: [scheduled("holder"), scheduled("thrower")],
      sandboxes: [
        {
          name: "sb",
          image: "img",
          workspace: "/workspace",
          resources: { cpu: 1, memory: "256Mi", memoryBytes: 256 * 1024 ** 2 },
        },
      ],
      images: [{ name: "img", from: "helmr-local/bun:1.4.5", steps: [] }],
    },
  })
  const request = async (method: string, path: string, body?: unknown) =>
    await api.app.request(`/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${api.apiKeys.dev}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  const promoted = await request("POST", `/deployments/${deploymentId}/promote`, {})
  if (promoted.status !== 200) throw new Error(`promote: ${await promoted.text()}`)
  return {
    api,
    fleet,
    runner,
    loop,
    holdDir,
    request,
    async seedCursor(instanceId, slot) {
      const [row] = await api.db.sql<{ version: string }[]>`
        update schedule_instances set next_fire_at = ${slot}, version = version + 1
        where id = ${instanceId} returning version`
      if (!row) throw new Error(`no instance ${instanceId}`)
      await putScheduleEntry(api.valkey.valkey, api.valkey.keys, {
        instanceId,
        version: row.version,
        nextFireAt: slot,
      })
    },
    async stop() {
      fleet.killAll()
      controller.abort()
      await loop.stopped.catch(() => {})
      runner.close()
      rmSync(holdDir, { recursive: true, force: true })
      await api.close()
    },
  }
}
