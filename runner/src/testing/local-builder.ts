import { randomBytes } from "node:crypto"
import { rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Sql } from "@helmr/migrations/db"
import pino from "pino"
import { startDeploymentBuilds } from "../build/deployment-builds.ts"
import { bundleRuntime, type RuntimeBundle } from "../build/runtime-bundle.ts"
import { createLocalDriver } from "../sandbox/local-driver.ts"

/**
 * The runner's deployment build loop alone, with the local driver (no Docker: a build writes the
 * code directory), for API and CLI tests whose deployments must become `ready` to be promoted.
 */
export interface LocalBuilder {
  stop(): Promise<void>
}

export function startLocalBuilder(sql: Sql, options: { leaseMs?: number } = {}): LocalBuilder {
  const root = join(tmpdir(), `helmr-builder-${randomBytes(4).toString("hex")}`)
  let runtime: Promise<RuntimeBundle> | null = null
  const controller = new AbortController()
  const stopped = startDeploymentBuilds(
    {
      sql,
      driver: createLocalDriver({
        root,
        runtime: () => {
          runtime ??= bundleRuntime()
          return runtime
        },
      }),
      logger: pino({ level: process.env.HELMR_TEST_LOG ?? "silent" }),
      runnerId: `test-builder-${randomBytes(4).toString("hex")}`,
      leaseMs: options.leaseMs ?? 10_000,
    },
    { pollMs: 100 },
    controller.signal,
  )
  return {
    async stop() {
      controller.abort()
      await stopped
      await rm(root, { recursive: true, force: true })
    },
  }
}
