import { type BootstrapResult, bootstrapProject } from "@helmr/migrations/bootstrap"
import { createKeyring } from "@helmr/migrations/secrets"
import {
  createTestDatabase,
  createTestValkey,
  type TestDatabase,
  type TestValkey,
  testEncryptionKey,
} from "@helmr/migrations/testing"
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
  close(): Promise<void>
}

/** The real app on its own database and key prefix, with a bootstrapped project. */
export async function startTestApi(
  label = "api",
  overrides: Partial<ApiDeps> = {},
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
  return {
    app,
    deps,
    db,
    valkey,
    project,
    apiKeys,
    listen() {
      const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch })
      const handle = {
        url: server.url.toString().replace(/\/$/, ""),
        stop: () => server.stop(true),
      }
      servers.push(handle)
      return handle
    },
    async close() {
      for (const s of servers) await s.stop()
      await valkey.cleanup()
      await db.drop()
    },
  }
}
