import { createHash } from "node:crypto"
import { type BootstrapResult, bootstrapProject } from "@helmr/migrations/bootstrap"
import type { Sql } from "@helmr/migrations/db"
import { newId } from "@helmr/migrations/ids"
import { createKeyring } from "@helmr/migrations/secrets"
import {
  createTestDatabase,
  createTestValkey,
  type TestDatabase,
  type TestValkey,
  testEncryptionKey,
} from "@helmr/migrations/testing"
import { type LocalBuilder, startLocalBuilder } from "@helmr/runner/testing/local-builder"
import type { Manifest, TaskManifest } from "@helmr/sdk/contract"
import type { Hono } from "hono"
import pino from "pino"
import { createApp } from "./app.ts"
import type { ApiDeps, AppEnv } from "./env.ts"

export interface TestApi {
  app: Hono<AppEnv>
  deps: ApiDeps
  db: TestDatabase
  valkey: TestValkey
  project: BootstrapResult
  /** API key per environment slug: `keys.dev`, `keys.staging`, `keys.prod`. */
  apiKeys: Record<string, string>
  /** Serves the app on a free loopback port (for clients that need a URL). */
  listen(): { url: string; stop(): Promise<void> }
  /** Resolves with the build status once the deployment's build ended (`builder` needed). */
  waitForBuild(deploymentId: string, timeoutMs?: number): Promise<"ready" | "failed">
  close(): Promise<void>
}

/**
 * The real app on its own database and key prefix, with a bootstrapped project. With `builder`,
 * the runner's deployment build loop runs beside it (local driver, no Docker), so deployments
 * uploaded through the API become `ready` and can be promoted, as with a runner.
 */
export async function startTestApi(
  label = "api",
  overrides: Partial<ApiDeps> = {},
  options: { builder?: boolean } = {},
): Promise<TestApi> {
  const db = await createTestDatabase(label)
  const valkey = createTestValkey(label)
  const deps: ApiDeps = {
    sql: db.sql,
    valkey: valkey.valkey,
    keys: valkey.keys,
    keyring: createKeyring(testEncryptionKey()),
    logger: pino({ level: process.env.HELMR_TEST_LOG_LEVEL ?? "silent" }),
    ...overrides,
  }
  const app = createApp(deps)
  const project = await bootstrapProject(db.sql, { slug: "test" })
  const apiKeys = Object.fromEntries(project.environments.map((e) => [e.slug, e.apiKey ?? ""]))
  const servers: { stop(): Promise<void> }[] = []
  const builder: LocalBuilder | null = options.builder ? startLocalBuilder(db.sql) : null
  return {
    app,
    deps,
    db,
    valkey,
    project,
    apiKeys,
    listen() {
      const server = Bun.serve({
        port: 0,
        hostname: "127.0.0.1",
        idleTimeout: 30,
        fetch: app.fetch,
      })
      const handle = {
        url: server.url.toString().replace(/\/$/, ""),
        stop: () => server.stop(true),
      }
      servers.push(handle)
      return handle
    },
    async waitForBuild(deploymentId, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const [row] = await db.sql<{ buildStatus: string }[]>`
          select build_status from deployments where id = ${deploymentId}`
        if (row?.buildStatus === "ready" || row?.buildStatus === "failed") return row.buildStatus
        if (Date.now() > deadline)
          throw new Error(`build of ${deploymentId} still ${row?.buildStatus ?? "missing"}`)
        await Bun.sleep(50)
      }
    },
    async close() {
      for (const s of servers) await s.stop()
      await builder?.stop()
      await valkey.cleanup()
      await db.drop()
    },
  }
}

/** A manifest with the given tasks (defaults filled in) and one sandbox and image they use. */
export function testManifest(
  tasks: (Partial<TaskManifest> & Pick<TaskManifest, "id">)[],
): Manifest {
  return {
    version: 1,
    entry: "index.js",
    tasks: tasks.map((t) => ({
      kind: "task",
      exportName: t.id.replace(/[^A-Za-z0-9]/g, "_"),
      sandbox: "default",
      secrets: [],
      payloadSchema: null,
      ...t,
    })),
    sandboxes: [{ name: "default", image: "default", workspace: "/workspace", network: "bridge" }],
    images: [{ name: "default", from: "helmr-local/bun:1.4.5", steps: [] }],
  }
}

/**
 * Inserts a deployment as promotion would leave it (bundle blob, row, and unless
 * `promote: false` the environment's current deployment), straight in SQL: for tests of code
 * that reads deployments without going through the deploy endpoints. It is written as built
 * (`ready`): promotion takes it without a runner.
 */
export async function insertTestDeployment(
  sql: Sql,
  input: { environmentId: string; projectId: string; manifest: Manifest; promote?: boolean },
): Promise<string> {
  const id = newId("dep")
  const bundle = Buffer.from(`// bundle of ${id}\nexport {}\n`)
  const digest = `sha256:${createHash("sha256").update(bundle).digest("hex")}`
  await sql.begin(async (tx) => {
    await tx`insert into blobs (project_id, digest, size, content)
      values (${input.projectId}, ${digest}, ${bundle.length}, ${bundle})
      on conflict do nothing`
    const [row] = await tx<{ version: number }[]>`
      select coalesce(max(version), 0) + 1 as version from deployments
      where environment_id = ${input.environmentId}`
    await tx`insert into deployments
      (id, project_id, environment_id, version, content_digest, bundle_digest, manifest, promoted_at,
        build_status)
      values (${id}, ${input.projectId}, ${input.environmentId}, ${row?.version ?? 1}, ${digest},
        ${digest}, ${tx.json(input.manifest as never)},
        ${input.promote === false ? null : new Date()}, 'ready')`
    if (input.promote !== false) {
      await tx`update environments set current_deployment_id = ${id} where id = ${input.environmentId}`
    }
  })
  return id
}
