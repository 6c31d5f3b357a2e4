import { join } from "node:path"
import { grantOperator } from "@helmr/migrations/operators"
import { createKeyring } from "@helmr/migrations/secrets"
import { testEncryptionKey } from "@helmr/migrations/testing"
import { bundleProject } from "@helmr/runner/testing/deployments"
import { type RunnerHarness, startRunnerHarness } from "@helmr/runner/testing/harness"
import pino from "pino"
import { createApp } from "../../app.ts"
import { promoteDeployment } from "../../deployments/promote.ts"
import type { ApiDeps, Caller } from "../../env.ts"

export const OPERATOR = { email: "ops@example.com", password: "correct horse battery staple" }

/** The fixture's manifest; `nightlyCron` is what tells the two deployments apart. */
export function fixtureManifest(nightlyCron: string) {
  const task = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    kind: "task",
    exportName: id,
    sandbox: "sb",
    payloadSchema: null,
    ...extra,
  })
  return {
    version: 1,
    entry: "index.js",
    tasks: [
      task("ticker"),
      task("sleeper"),
      task("greet", {
        payloadSchema: {
          type: "object",
          properties: { name: { type: "string", minLength: 1 }, times: { type: "integer" } },
          required: ["name"],
          additionalProperties: false,
        },
      }),
      task("fails"),
      task("nightly", { kind: "scheduled", cron: { pattern: nightlyCron, timezone: "UTC" } }),
      task("sweep", { kind: "scheduled" }),
    ],
    sandboxes: [{ name: "sb", image: "img", workspace: "/workspace", network: "none" }],
    images: [
      {
        name: "img",
        from: "helmr-local/bun:1.4.5",
        steps: [{ op: "run", argv: ["bun", "--version"], cache: [] }],
      },
    ],
  }
}

export interface DashboardStack {
  harness: RunnerHarness
  deps: ApiDeps
  url: string
  projectSlug: string
  /** Deployment ids: v1 (nightly at 03:00 UTC, promoted) and v2 (04:30, not promoted). */
  v1: string
  v2: string
  caller: Caller
  close(): Promise<void>
}

/**
 * A real runner (local driver: the task code runs as a child process) and the real API app on
 * one test database and key prefix, the fixture deployed twice (v1 promoted), and an operator
 * who is a member of every environment of the project.
 */
export async function startDashboardStack(label: string): Promise<DashboardStack> {
  const harness = await startRunnerHarness(label, { HELMR_SANDBOX_DRIVER: "local" })
  const deps: ApiDeps = {
    sql: harness.db.sql,
    valkey: harness.vk.valkey,
    keys: harness.vk.keys,
    keyring: createKeyring(testEncryptionKey()),
    logger: pino({ level: process.env.HELMR_TEST_LOG_LEVEL ?? "silent" }),
    sse: { pollMs: 200, heartbeatMs: 5000 },
  }
  const app = createApp(deps)
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", idleTimeout: 30, fetch: app.fetch })
  const bundle = await bundleProject(join(import.meta.dir, "fixture"))
  const v1 = await harness.deploy({ bundle, manifest: fixtureManifest("0 3 * * *") })
  const v2 = await harness.deploy({ bundle, manifest: fixtureManifest("30 4 * * *") })
  const [project] = await harness.db.sql<{ slug: string }[]>`
    select slug from projects where id = ${harness.projectId}`
  const projectSlug = project?.slug ?? ""
  const caller: Caller = {
    keyId: "test",
    environmentId: harness.environmentId,
    environmentSlug: "dev",
    projectId: harness.projectId,
    currentDeploymentId: null,
  }
  await promoteDeployment(deps, caller, v1)
  caller.currentDeploymentId = v1
  await grantOperator(harness.db.sql, { ...OPERATOR, projectSlug })
  return {
    harness,
    deps,
    url: server.url.toString().replace(/\/$/, ""),
    projectSlug,
    v1,
    v2,
    caller,
    async close() {
      await server.stop(true)
      await harness.stop()
    },
  }
}
